#include "kube/transport/api_status.h"

#include <charconv>
#include <string>

namespace sg::kube {

std::optional<ApiStatus> ParseApiStatus(const nlohmann::json& obj) {
  if (!obj.is_object()) return std::nullopt;
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->is_string() || *kind != "Status") return std::nullopt;
  ApiStatus s;
  if (auto it = obj.find("code"); it != obj.end() && it->is_number_integer()) {
    s.code = it->get<int>();
  }
  if (auto it = obj.find("reason"); it != obj.end() && it->is_string()) {
    s.reason = it->get<std::string>();
  }
  if (auto it = obj.find("message"); it != obj.end() && it->is_string()) {
    s.message = it->get<std::string>();
  }
  return s;
}

namespace {

Code CodeForHttp(int http_code) {
  switch (http_code) {
    case 400:
    case 405:
    case 406:
    case 413:
    case 415:
    case 422:
      return Code::kInvalid;
    case 401:
      return Code::kUnauthorized;
    case 403:
      return Code::kForbidden;
    case 404:
      return Code::kNotFound;
    case 408:
    case 504:
      return Code::kTimeout;
    case 409:
      return Code::kConflict;
    case 410:
      return Code::kGone;
    case 429:
      return Code::kTooManyRequests;
    case 500:
      return Code::kInternal;
    case 502:
    case 503:
      return Code::kUnavailable;
    default:
      if (http_code >= 500) return Code::kUnavailable;
      return Code::kUnknown;
  }
}

}  // namespace

Code CodeForApiStatus(std::string_view reason, int http_code) {
  static const std::pair<std::string_view, Code> kReasons[] = {
      {"NotFound", Code::kNotFound},
      {"AlreadyExists", Code::kAlreadyExists},
      {"Conflict", Code::kConflict},
      {"Gone", Code::kGone},
      {"Expired", Code::kGone},
      {"Forbidden", Code::kForbidden},
      {"Unauthorized", Code::kUnauthorized},
      {"Invalid", Code::kInvalid},
      {"BadRequest", Code::kInvalid},
      {"MethodNotAllowed", Code::kInvalid},
      {"NotAcceptable", Code::kInvalid},
      {"RequestEntityTooLarge", Code::kInvalid},
      {"UnsupportedMediaType", Code::kInvalid},
      {"TooManyRequests", Code::kTooManyRequests},
      {"Timeout", Code::kTimeout},
      {"ServerTimeout", Code::kUnavailable},
      {"ServiceUnavailable", Code::kUnavailable},
      {"InternalError", Code::kInternal},
  };
  for (const auto& [name, code] : kReasons) {
    if (reason == name) return code;
  }
  return CodeForHttp(http_code);
}

namespace {

Status Build(int http_code, const ApiStatus& s) {
  std::string msg = s.message.empty() ? "request failed" : s.message;
  msg += " (";
  if (!s.reason.empty()) msg += s.reason + ", ";
  msg += "HTTP " + std::to_string(http_code) + ")";
  return Status(CodeForApiStatus(s.reason, http_code), std::move(msg));
}

}  // namespace

Status StatusFromHttp(int http_code, std::string_view body) {
  nlohmann::json obj = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (auto s = ParseApiStatus(obj)) return Build(http_code, *s);
  ApiStatus s;
  // Not a Status (a proxy's page): keep a short, printable prefix of it.
  std::string text(body.substr(0, 200));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = ' ';
  }
  s.message = text.empty() ? "unexpected HTTP status" : "unexpected answer: " + text;
  return Build(http_code, s);
}

Status StatusFromApiStatus(const nlohmann::json& obj) {
  auto s = ParseApiStatus(obj);
  if (!s) return InternalError("watch ERROR event without a Status object");
  return Build(s->code, *s);
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || p != value.data() + value.size() || n < 0) return std::nullopt;
  return std::chrono::seconds(n);
}

}  // namespace sg::kube
