#include "observe/log/field.h"

#include <charconv>
#include <cmath>

namespace sg::observe {

std::string Field::ValueString() const {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(std::uint64_t v) const { return std::to_string(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(double v) const {
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      return std::string(buf, r.ptr);
    }
  };
  return std::visit(Visitor{}, value_);
}

}  // namespace sg::observe
