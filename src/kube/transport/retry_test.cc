#include "kube/transport/retry.h"

#include <gtest/gtest.h>

namespace sg::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryTest, WhichAnswersAreRetried) {
  EXPECT_TRUE(ShouldRetryHttp("POST", 429, false));
  EXPECT_TRUE(ShouldRetryHttp("PATCH", 503, true));
  EXPECT_FALSE(ShouldRetryHttp("POST", 503, false));
  EXPECT_TRUE(ShouldRetryHttp("GET", 503, false));
  EXPECT_TRUE(ShouldRetryHttp("PUT", 500, false));
  EXPECT_FALSE(ShouldRetryHttp("GET", 501, false));
  EXPECT_FALSE(ShouldRetryHttp("GET", 404, false));
  EXPECT_FALSE(ShouldRetryHttp("GET", 409, true));
  EXPECT_TRUE(ShouldRetryConnection("DELETE"));
  EXPECT_FALSE(ShouldRetryConnection("POST"));
  EXPECT_FALSE(ShouldRetryConnection("PATCH"));
}

TEST(RetryTest, BackoffDoublesCapsAndJitters) {
  RetryPolicy p;
  p.jitter = 0;
  std::mt19937_64 rng(1);
  EXPECT_EQ(RetryDelay(p, 1, std::nullopt, rng), milliseconds(200));
  EXPECT_EQ(RetryDelay(p, 2, std::nullopt, rng), milliseconds(400));
  EXPECT_EQ(RetryDelay(p, 7, std::nullopt, rng), milliseconds(10'000));
  EXPECT_EQ(RetryDelay(p, 60, std::nullopt, rng), milliseconds(10'000));
  EXPECT_EQ(RetryDelay(p, 1, seconds(4), rng), seconds(4));
  EXPECT_EQ(RetryDelay(p, 1, seconds(3600), rng), milliseconds(30'000));  // clamped
  p.jitter = 0.5;
  for (int i = 0; i < 100; ++i) {
    auto d = RetryDelay(p, 2, std::nullopt, rng);
    EXPECT_GE(d, milliseconds(400));
    EXPECT_LT(d, milliseconds(600));
  }
}

}  // namespace
}  // namespace sg::kube
