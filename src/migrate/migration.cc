#include "migrate/migration.h"

#include <cctype>
#include <charconv>

namespace sg::migrate {

std::optional<FileName> ParseFileName(std::string_view file_name) {
  FileName out;
  std::string_view rest = file_name;
  if (rest.ends_with(".up.sql")) {
    out.direction = Direction::kUp;
    rest.remove_suffix(7);
  } else if (rest.ends_with(".down.sql")) {
    out.direction = Direction::kDown;
    rest.remove_suffix(9);
  } else {
    return std::nullopt;
  }
  size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits == 0 || digits >= rest.size() || rest[digits] != '_') return std::nullopt;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + digits, out.version);
  if (ec != std::errc() || ptr != rest.data() + digits) return std::nullopt;  // overflow
  if (out.version > kMaxVersion) return std::nullopt;
  out.name = std::string(rest.substr(digits + 1));
  if (out.name.empty()) return std::nullopt;
  for (char c : out.name) {
    if (std::iscntrl(static_cast<unsigned char>(c)) || c == '/') return std::nullopt;
  }
  return out;
}

std::string Script::FileName() const {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool HasNoTransactionDirective(std::string_view sql) {
  if (sql.starts_with("\xEF\xBB\xBF")) sql.remove_prefix(3);  // UTF-8 BOM
  std::string_view first = sql.substr(0, sql.find('\n'));
  while (!first.empty() && (first.back() == '\r' || first.back() == ' ' || first.back() == '\t')) {
    first.remove_suffix(1);
  }
  return first == kNoTransactionDirective;
}

}  // namespace sg::migrate
