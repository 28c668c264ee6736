#include "migrate/conninfo.h"

#include <libpq-fe.h>

#include <map>
#include <memory>

#include "observe/redact/redact.h"

namespace sg::migrate {
namespace {

constexpr const char* kNotShown =
    " (the value is not shown: it may hold the password; check --database-url or "
    "DATABASE_URL, e.g. the Secret key the operator passes)";

// libpq quotes the part it could not parse, and that part is often the
// password: only a fixed description of the class of mistake is kept.
std::string ParseErrorClass(const std::string& libpq) {
  struct Class {
    const char* needle;
    const char* what;
  };
  static const Class kClasses[] = {
      {"invalid percent-encoded token",
       "a '%' not followed by two hex digits (write a literal '%' as %25)"},
      {"forbidden value %00", "%00 in a percent-encoded value"},
      {"missing \"=\" after", "a word without '=' (expected keyword=value pairs or a URL)"},
      {"unterminated quoted string", "an unterminated quoted value"},
      {"invalid connection option", "an unknown connection option"},
      {"key/value separator", "a malformed query parameter (expected ?key=value&...)"},
      {"invalid URI query parameter", "an unknown query parameter"},
      {"IPv6 host address", "a malformed IPv6 host in brackets"},
      {"unexpected character", "an unexpected character in the URL"},
      {"invalid URI", "a malformed URL"},
  };
  for (const Class& c : kClasses) {
    if (libpq.find(c.needle) != std::string::npos) return c.what;
  }
  return "libpq could not parse it";
}

// A reserved character in the user or password of a URL that is not
// percent-encoded makes libpq split the URL elsewhere: part of the password
// becomes the host, port or database name, which messages then show. Refuse
// before libpq sees it. libpq takes credentials up to the first '@' unless a
// '/' comes first.
bool UnencodedCredentials(const std::string& s) {
  size_t scheme = std::string::npos;
  for (const char* p : {"postgresql://", "postgres://"}) {
    if (s.rfind(p, 0) == 0) scheme = std::string(p).size();
  }
  if (scheme == std::string::npos) return false;
  const std::string rest = s.substr(scheme);
  const size_t at = rest.find('@');
  if (at == std::string::npos) return false;
  if (rest.find_first_of("/?#") < at) return true;
  const std::string before_query = rest.substr(0, rest.find('?', at));
  return before_query.find('@', at + 1) != std::string::npos;
}

}  // namespace

StatusOr<ConnInfo> ConnInfo::Parse(std::string conninfo) {
  if (conninfo.empty()) {
    return InvalidError("no database URL: pass --database-url or set DATABASE_URL");
  }
  if (UnencodedCredentials(conninfo)) {
    return InvalidError(
        std::string("invalid database URL: the user or password holds a reserved character "
                    "('@', '/', '?', '#') that is not percent-encoded (write '@' as %40, '/' "
                    "as %2F, '?' as %3F, '#' as %23)") +
        kNotShown);
  }
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(conninfo.c_str(), &err), &PQconninfoFree);
  if (!options) {
    std::string message = err ? err : "out of memory";
    if (err) PQfreemem(err);
    return InvalidError("invalid database URL: " + ParseErrorClass(message) + kNotShown);
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

std::string ConnInfo::DescribeConnectError(const std::string& libpq) const {
  struct Class {
    const char* needle;
    const char* what;
  };
  static const Class kClasses[] = {
      {"password authentication failed",
       "password authentication failed (check the user and password)"},
      {"authentication failed", "authentication failed (check the user and password)"},
      {"no password supplied", "the server wants a password and none was given (password)"},
      {"no pg_hba.conf entry",
       "the server's pg_hba.conf admits no such connection (user, dbname, client address, TLS)"},
      {"could not translate host name", "unknown host (host)"},
      {"Name or service not known", "unknown host (host)"},
      {"Connection refused", "connection refused: nothing listens there (host, port)"},
      {"timeout expired", "timed out (host, port, connect_timeout)"},
      {"timed out", "timed out (host, port, connect_timeout)"},
      {"SSL", "TLS failure (sslmode, sslrootcert, the server's certificate)"},
      {"certificate", "TLS failure (sslmode, sslrootcert, the server's certificate)"},
      {"too many connections", "the server has no free connection slots"},
      {"remaining connection slots", "the server has no free connection slots"},
      {"starting up", "the server is starting up"},
      {"shutting down", "the server is shutting down"},
      {"invalid integer value", "a number is expected (port, connect_timeout)"},
      {"invalid port number", "invalid port (port)"},
  };
  for (const Class& c : kClasses) {
    if (libpq.find(c.needle) != std::string::npos) return c.what;
  }
  if (libpq.find("does not exist") != std::string::npos) {
    if (libpq.find("database") != std::string::npos) return "the database does not exist (dbname)";
    if (libpq.find("role") != std::string::npos) return "the user does not exist (user)";
  }
  // Unknown: keep the words, drop every quoted part (values live there).
  std::string out;
  bool quoted = false;
  for (char ch : Redact(libpq)) {
    if (ch == '"') {
      quoted = !quoted;
      if (quoted) out += "\"...\"";
      continue;
    }
    if (!quoted) out += ch;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
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
