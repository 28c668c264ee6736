#include "kube/workqueue/rate_limiter.h"

#include <gtest/gtest.h>

namespace sg::kube {
namespace {

using namespace std::chrono_literals;

TEST(ExponentialFailureRateLimiterTest, DoublesPerKeyAndCaps) {
  ExponentialFailureRateLimiter l(5ms, 1s);
  EXPECT_EQ(l.When("a"), 5ms);
  EXPECT_EQ(l.When("a"), 10ms);
  EXPECT_EQ(l.When("a"), 20ms);
  EXPECT_EQ(l.When("b"), 5ms);  // independent keys
  for (int i = 0; i < 100; ++i) l.When("a");
  EXPECT_EQ(l.When("a"), 1s);
  EXPECT_EQ(l.NumRequeues("a"), 104);
  l.Forget("a");
  EXPECT_EQ(l.NumRequeues("a"), 0);
  EXPECT_EQ(l.When("a"), 5ms);
}

TEST(TokenBucketRateLimiterTest, BurstThenOneTokenPerInterval) {
  FakeClock clock;
  TokenBucketRateLimiter l(10.0, 3, &clock);
  EXPECT_EQ(l.When("x"), 0s);
  EXPECT_EQ(l.When("y"), 0s);
  EXPECT_EQ(l.When("z"), 0s);
  // Bucket empty: reservations queue up 100 ms apart.
  EXPECT_EQ(l.When("x"), 100ms);
  EXPECT_EQ(l.When("x"), 200ms);
  clock.Advance(1s);  // refills (capped at the burst)
  EXPECT_EQ(l.When("x"), 0s);
}

TEST(DefaultControllerRateLimiterTest, TakesTheLongerOfBackoffAndBucket) {
  FakeClock clock;
  auto l = DefaultControllerRateLimiter(&clock);
  EXPECT_EQ(l->When("a"), 5ms);  // bucket still has tokens
  for (int i = 0; i < 99; ++i) l->When("k" + std::to_string(i));
  // Token 101 is 100 ms out on a 10 qps bucket; "new" has no failures yet.
  EXPECT_EQ(l->When("new"), 100ms);
  EXPECT_EQ(l->NumRequeues("a"), 1);
  l->Forget("a");
  EXPECT_EQ(l->NumRequeues("a"), 0);
}

}  // namespace
}  // namespace sg::kube
