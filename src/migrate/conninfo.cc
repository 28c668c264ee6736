#include "migrate/conninfo.h"

#include <libpq-fe.h>

#include <map>
#include <memory>

#include "observe/redact/redact.h"

namespace sg::migrate {

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
    return InvalidError("invalid database URL: " + observe::RedactText(message));
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
  std::string out = observe::RedactText(text);
  if (password_.empty()) return out;
  size_t pos = 0;
  while ((pos = out.find(password_, pos)) != std::string::npos) {
    out.replace(pos, password_.size(), "***");
    pos += 3;
  }
  return out;
}

}  // namespace sg::migrate
