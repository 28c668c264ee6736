// Redaction: keeps anything that looks like a credential out of logs, error
// messages and progress lines.
//
// Two rules, applied by the logger to every record (and usable on any text):
//   - a field whose KEY names a secret (password, passwd, pwd, token, secret,
//     credential, apikey/api_key, authorization, private_key, cookie; case
//     and separators ignored, matched as a substring, so "db_password" and
//     "bearerToken" count) has its whole value replaced by "[REDACTED]";
//   - free TEXT has credentials inside it masked with "***": URL userinfo
//     passwords ("postgres://u:***@h/db"), keyword/value passwords
//     ("password=***", also quoted: password='***'), and HTTP bearer/basic
//     credentials ("Bearer ***").
// Redaction is best effort on text nobody parsed; callers still must not put
// secrets into messages on purpose.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace sg::observe {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// True when a field named `key` must never be printed.
bool IsSensitiveKey(std::string_view key);

// "scheme://user:password@host" -> "scheme://user:***@host", for every URL in
// `text`.
std::string RedactUrlPasswords(std::string_view text);

// RedactUrlPasswords plus keyword/value passwords and Authorization schemes.
std::string RedactText(std::string_view text);

// What the logger applies to one field: kRedacted when the key is sensitive,
// RedactText(value) otherwise.
std::string RedactField(std::string_view key, std::string_view value);

}  // namespace sg::observe
