#include "migrate/conninfo.h"

#include <libpq-fe.h>

#include <map>
#include <memory>

namespace sg::migrate {

std::string RedactUrlPasswords(std::string_view text) {
  std::string out(text);
  size_t pos = 0;
  while ((pos = out.find("://", pos)) != std::string::npos) {
    size_t start = pos + 3;
    size_t at = out.find('@', start);
    size_t end_of_authority = out.find_first_of("/? \t\n\"'", start);
    if (at == std::string::npos ||
        (end_of_authority != std::string::npos && at > end_of_authority)) {
      pos = start;
      continue;
    }
    size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
      pos = colon + 4;
    } else {
      pos = at;
    }
  }
  return out;
}

StatusOr<ConnInfo> ConnInfo::Parse(std::string conninfo) {
  if (conninfo.empty()) {
    return InvalidError("no database URL: pass --database-url or set DATABASE_URL");
  }
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), &err), &PQconninfoFree);
  if (!options) {
    std::string message = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidError("invalid database URL: " + RedactUrlPasswords(message));
  }
  std::map<std::string, std::string> values;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) values[o->keyword] = o->val;
  }
  ConnInfo info;
  info.conninfo_ = std::move(conninfo);
  info.password_ = values["password"];
  std::string host = values.count("host") ? values["host"] : values["hostaddr"];
  if (host.empty()) host = "localhost";
  std::string display;
  if (!values["user"].empty()) display += values["user"] + "@";
  display += host;
  if (!values["port"].empty()) display += ":" + values["port"];
  display += "/" + values["dbname"];
  info.display_ = std::move(display);
  return info;
}

std::string ConnInfo::Redact(std::string_view text) const {
  std::string out = RedactUrlPasswords(text);
  if (password_.empty()) return out;
  size_t pos = 0;
  while ((pos = out.find(password_, pos)) != std::string::npos) {
    out.replace(pos, password_.size(), "***");
    pos += 3;
  }
  return out;
}

}  // namespace sg::migrate
