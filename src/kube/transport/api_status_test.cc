#include "kube/transport/api_status.h"

#include <gtest/gtest.h>

namespace sg::kube {
namespace {

TEST(ApiStatusTest, ReasonDecidesCode) {
  struct Case {
    const char* reason;
    int http;
    Code want;
  } cases[] = {
      {"NotFound", 404, Code::kNotFound},
      {"AlreadyExists", 409, Code::kAlreadyExists},
      {"Conflict", 409, Code::kConflict},
      {"Gone", 410, Code::kGone},
      {"Expired", 410, Code::kGone},
      {"Forbidden", 403, Code::kForbidden},
      {"Unauthorized", 401, Code::kUnauthorized},
      {"Invalid", 422, Code::kInvalid},
      {"BadRequest", 400, Code::kInvalid},
      {"TooManyRequests", 429, Code::kTooManyRequests},
      {"Timeout", 504, Code::kTimeout},
      {"ServiceUnavailable", 503, Code::kUnavailable},
      {"InternalError", 500, Code::kInternal},
      {"", 409, Code::kConflict},
      {"SomethingNew", 404, Code::kNotFound},
      {"", 502, Code::kUnavailable},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(CodeForApiStatus(c.reason, c.http), c.want) << c.reason << " " << c.http;
  }
}

TEST(ApiStatusTest, StatusFromBody) {
  Status s = StatusFromHttp(
      422,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"spec.x: Invalid value",)"
      R"("reason":"Invalid","code":422})");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "spec.x: Invalid value (Invalid, HTTP 422)");
  Status odd = StatusFromHttp(500, "\x01garbage\n");
  EXPECT_EQ(odd.code(), Code::kInternal);
  EXPECT_EQ(odd.message(), "unexpected answer:  garbage  (HTTP 500)");
}

TEST(ApiStatusTest, WatchErrorEvent) {
  auto obj = nlohmann::json::parse(
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"j("message":"too old resource version: 1 (5)","reason":"Expired","code":410})j");
  Status s = StatusFromApiStatus(obj);
  EXPECT_EQ(s.code(), Code::kGone);
  EXPECT_EQ(s.message(), "too old resource version: 1 (5) (Expired, HTTP 410)");
  EXPECT_EQ(StatusFromApiStatus(nlohmann::json::object()).code(), Code::kInternal);
}

TEST(ApiStatusTest, RetryAfter) {
  EXPECT_EQ(ParseRetryAfter("3"), std::chrono::seconds(3));
  EXPECT_EQ(ParseRetryAfter(" 0 "), std::chrono::seconds(0));
  EXPECT_FALSE(ParseRetryAfter("").has_value());
  EXPECT_FALSE(ParseRetryAfter("-1").has_value());
  EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
}

}  // namespace
}  // namespace sg::kube
