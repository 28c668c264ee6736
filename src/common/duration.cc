#include "common/duration.h"

#include <cctype>
#include <cstdint>
#include <limits>

namespace sg {
namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

Status Malformed(std::string_view text) {
  return InvalidError("invalid duration \"" + std::string(text) +
                      "\": expected a number with a unit, e.g. 500ms, 5s, 2m, 1h30m");
}

}  // namespace

StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return Malformed(text);
  size_t i = 0;
  long double total = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == start) return Malformed(text);
    std::string number(text.substr(start, i - start));
    if (number == "." || number.find('.') != number.rfind('.')) return Malformed(text);
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit_name = text.substr(unit_start, i - unit_start);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) return Malformed(text);
    total += std::stold(number) * static_cast<long double>(unit->ns);
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
      return InvalidError("invalid duration \"" + std::string(text) + "\": too large");
    }
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  auto fixed = [&](int64_t unit, std::string_view suffix) {
    int64_t whole = ns / unit;
    int64_t frac = ns % unit;
    std::string out = sign + std::to_string(whole);
    if (frac != 0) {
      std::string digits = std::to_string(frac);
      // Left-pad to the unit's width, then trim trailing zeros.
      size_t width = std::to_string(unit).size() - 1;
      digits.insert(0, width - digits.size(), '0');
      while (!digits.empty() && digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    out += suffix;
    return out;
  };
  if (ns < 1'000) return sign + std::to_string(ns) + "ns";
  if (ns < 1'000'000) return fixed(1'000, "us");
  if (ns < 1'000'000'000) return fixed(1'000'000, "ms");
  if (ns < 60'000'000'000 || ns % 60'000'000'000 != 0) {
    if (ns >= 60'000'000'000) {
      // Go style for mixed values: 1m30s, 1h2m3.5s.
      std::string out = sign;
      int64_t h = ns / 3'600'000'000'000;
      ns %= 3'600'000'000'000;
      int64_t m = ns / 60'000'000'000;
      ns %= 60'000'000'000;
      if (h) out += std::to_string(h) + "h";
      out += std::to_string(m) + "m";
      sign.clear();
      if (ns) out += fixed(1'000'000'000, "s");
      return out;
    }
    return fixed(1'000'000'000, "s");
  }
  if (ns % 3'600'000'000'000 == 0) return sign + std::to_string(ns / 3'600'000'000'000) + "h";
  int64_t h = ns / 3'600'000'000'000;
  int64_t m = (ns % 3'600'000'000'000) / 60'000'000'000;
  return sign + (h ? std::to_string(h) + "h" : "") + std::to_string(m) + "m";
}

}  // namespace sg
