// Field: one key/value pair of a structured log record. Values are strings,
// integers, floating point numbers or booleans; Status and durations convert
// to a readable form. Built implicitly, so call sites read
//   log.Info("reconciled", {{"namespace", ns}, {"name", name}, {"version", 7}});
//
// Thread-safety: a value.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace sg::observe {

class Field {
 public:
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;

  Field(std::string key, std::string value) : key_(std::move(key)), value_(std::move(value)) {}
  Field(std::string key, std::string_view value)
      : key_(std::move(key)), value_(std::string(value)) {}
  Field(std::string key, const char* value) : key_(std::move(key)), value_(std::string(value)) {}
  Field(std::string key, bool value) : key_(std::move(key)), value_(value) {}
  Field(std::string key, double value) : key_(std::move(key)), value_(value) {}
  template <std::signed_integral T>
  Field(std::string key, T value)
      : key_(std::move(key)), value_(static_cast<std::int64_t>(value)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) Field(std::string key, T value)
      : key_(std::move(key)), value_(static_cast<std::uint64_t>(value)) {}
  // "Conflict: the object has been modified" ("OK" for OK).
  Field(std::string key, const Status& status) : key_(std::move(key)), value_(status.ToString()) {}
  // Seconds as a number: {"elapsed", 1.25}.
  template <typename Rep, typename Period>
  Field(std::string key, std::chrono::duration<Rep, Period> d)
      : key_(std::move(key)),
        value_(std::chrono::duration_cast<std::chrono::duration<double>>(d).count()) {}

  const std::string& key() const { return key_; }
  const Value& value() const { return value_; }
  // The value as text (numbers in shortest round-trip form).
  std::string ValueString() const;

 private:
  std::string key_;
  Value value_;
};

}  // namespace sg::observe
