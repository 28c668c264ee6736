// ConnInfo: a PostgreSQL connection string (libpq URL or keyword/value form)
// checked up front, with what is needed to keep its password out of every
// message: a redacted display form, a Redact() for third-party text, and
// fixed descriptions of parse and connection errors (libpq's own quote the
// parts of the string they could not use, which is often the password).
//
// Thread-safety: immutable after Parse.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace sg::migrate {

class ConnInfo {
 public:
  // kInvalid (never echoing the input) when libpq cannot parse `conninfo`.
  static StatusOr<ConnInfo> Parse(std::string conninfo);

  const std::string& conninfo() const { return conninfo_; }
  // "user@host:port/dbname": safe to print.
  const std::string& display() const { return display_; }
  // `text` with this password, and anything else that looks like one (URL
  // userinfo, password=...), replaced by "***".
  std::string Redact(std::string_view text) const;
  // libpq's connection error as one of a fixed set of classes naming the
  // field to check (host, port, dbname, user, password, TLS), never a value
  // from the connection string; an unknown message loses every quoted part.
  std::string DescribeConnectError(const std::string& libpq_message) const;

 private:
  std::string conninfo_;
  std::string password_;
  std::string display_;
};

}  // namespace sg::migrate
