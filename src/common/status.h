// Status and StatusOr<T>: errors as values.
//
// A Status carries a Code mirroring the Kubernetes API's Status reasons (so an
// HTTP 409 from the API server and a lost optimistic-concurrency race in our
// own code read the same) plus a human message. Third-party exceptions are
// caught at the adapters (HTTP, YAML, PostgreSQL) and turned into a Status.
//
// Thread-safety: values; immutable after construction, safe to copy across
// threads.
#pragma once

#include <cassert>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sg {

enum class Code {
  kOk = 0,
  kInvalid,             // bad input: spec, file, flag (API reason Invalid/BadRequest)
  kNotFound,            // NotFound
  kAlreadyExists,       // AlreadyExists
  kConflict,            // Conflict: stale resourceVersion, lost race
  kGone,                // Gone / Expired: resourceVersion too old, re-list
  kForbidden,           // Forbidden
  kUnauthorized,        // Unauthorized
  kTimeout,             // Timeout: deadline exceeded
  kTooManyRequests,     // TooManyRequests: back off (Retry-After)
  kUnavailable,         // ServiceUnavailable, connection refused: retry
  kFailedPrecondition,  // the world is not in a state that allows this
  kCancelled,           // shutdown requested
  kInternal,            // InternalError: a bug or an unexpected answer
  kUnknown,
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "Conflict: the object has been modified" (or "OK").
  std::string ToString() const;

  // A copy with `context` prepended: "loading 0001_init.up.sql: <message>".
  Status WithContext(std::string_view context) const;

  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

inline Status OkStatus() { return Status(); }
inline Status InvalidError(std::string m) { return {Code::kInvalid, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status ConflictError(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status GoneError(std::string m) { return {Code::kGone, std::move(m)}; }
inline Status ForbiddenError(std::string m) { return {Code::kForbidden, std::move(m)}; }
inline Status UnauthorizedError(std::string m) { return {Code::kUnauthorized, std::move(m)}; }
inline Status TimeoutError(std::string m) { return {Code::kTimeout, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status CancelledError(std::string m) { return {Code::kCancelled, std::move(m)}; }
inline Status InternalError(std::string m) { return {Code::kInternal, std::move(m)}; }

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : rep_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(rep_).ok() && "StatusOr built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(rep_); }
  Status status() const { return ok() ? Status() : std::get<Status>(rep_); }

  const T& value() const& { return std::get<T>(rep_); }
  T& value() & { return std::get<T>(rep_); }
  T&& value() && { return std::get<T>(std::move(rep_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> rep_;
};

}  // namespace sg

#define SG_CONCAT_INNER_(a, b) a##b
#define SG_CONCAT_(a, b) SG_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define SG_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::sg::Status sg_status_ = (expr);        \
    if (!sg_status_.ok()) return sg_status_; \
  } while (0)

// `SG_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a StatusOr or returns
// its Status.
#define SG_ASSIGN_OR_RETURN(lhs, expr) \
  SG_ASSIGN_OR_RETURN_IMPL_(SG_CONCAT_(sg_statusor_, __LINE__), lhs, expr)
#define SG_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
