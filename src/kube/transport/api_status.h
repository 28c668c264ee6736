// Mapping API server failures to sg::Status.
//
// The API server answers failures with a metav1.Status body
// ({"kind":"Status","reason":"NotFound","code":404,"message":...}); the same
// object arrives inside a watch ERROR event. The reason decides the Code;
// when the body is not a Status (a proxy's HTML page), the HTTP code does.
// The Status message keeps the API's message and names the reason and code:
//   `configmaps "x" not found (NotFound, HTTP 404)`.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sg::kube {

struct ApiStatus {
  int code = 0;         // HTTP code the server reported (0 if absent)
  std::string reason;   // e.g. "AlreadyExists", "" if absent
  std::string message;  // human text from the server
};

// Parses a metav1.Status object; nullopt if `obj` is not one.
std::optional<ApiStatus> ParseApiStatus(const nlohmann::json& obj);

// The Code for an API reason, falling back to the HTTP code when the reason
// is empty or unknown.
Code CodeForApiStatus(std::string_view reason, int http_code);

// A non-OK Status for a non-2xx HTTP answer with `body`.
Status StatusFromHttp(int http_code, std::string_view body);

// A non-OK Status for a metav1.Status object (watch ERROR events).
Status StatusFromApiStatus(const nlohmann::json& obj);

// Parses a Retry-After header given in seconds ("3"); HTTP dates are not
// used by the API server and yield nullopt, as does anything malformed.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

}  // namespace sg::kube
