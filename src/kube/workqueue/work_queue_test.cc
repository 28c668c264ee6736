#include "kube/workqueue/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sg::kube {
namespace {

using namespace std::chrono_literals;

// A limiter that never delays, so tests of queue mechanics are not affected
// by the default bucket.
class NoDelay final : public RateLimiter {
 public:
  Clock::Duration When(const std::string&) override { return 0s; }
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }
};

std::unique_ptr<RateLimiter> NoDelayLimiter() { return std::make_unique<NoDelay>(); }

// Polls (bounded in real time) until `pred` holds; for waiting on another
// thread to park, never for a timed assertion.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 5000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

TEST(WorkQueueTest, DeduplicatesQueuedKeysAndKeepsOrder) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsHandedOutAgainOnlyAfterDone) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  q.Add("a");
  q.Add("a");
  // Not handed out while in flight: another worker would get nothing.
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.GetUntil(clock.Now()), std::nullopt);
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, SameKeyNeverProcessedConcurrentlyUnderLoad) {
  WorkQueue q(Clock::Real(), NoDelayLimiter());
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        if (in_flight.fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        in_flight.fetch_sub(1);
        processed.fetch_add(1);
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.Add("same");
  q.ShutDownWithDrain();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GE(processed.load(), 1);
}

TEST(WorkQueueTest, AddAfterWaitsForTheClock) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.AddAfter("a", 5s);
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.NumWaiting(), 1u);
  clock.Advance(4999ms);
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(1ms);
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.NumWaiting(), 0u);
  EXPECT_EQ(q.Get(), "a");
}

TEST(WorkQueueTest, EarliestDelayWinsForAWaitingKey) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.AddAfter("a", 10s);
  q.AddAfter("a", 2s);
  q.AddAfter("a", 30s);
  EXPECT_EQ(q.NumWaiting(), 1u);
  clock.Advance(2s);
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.NumWaiting(), 0u);
}

TEST(WorkQueueTest, DelayedKeysComeOutInReadyOrder) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.AddAfter("late", 3s);
  q.AddAfter("early", 1s);
  q.AddAfter("now", 0s);
  clock.Advance(5s);
  EXPECT_EQ(q.Get(), "now");
  EXPECT_EQ(q.Get(), "early");
  EXPECT_EQ(q.Get(), "late");
}

TEST(WorkQueueTest, BlockedGetWakesWhenTheDelayPasses) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.AddAfter("a", 1min);
  std::optional<std::string> got;
  std::thread worker([&] { got = q.Get(); });
  ASSERT_TRUE(Eventually([&] { return clock.waiters() > 0; }));
  clock.Advance(1min);
  worker.join();
  EXPECT_EQ(got, "a");
}

TEST(WorkQueueTest, BlockedGetWakesOnAdd) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  std::optional<std::string> got;
  std::thread worker([&] { got = q.Get(); });
  q.Add("x");
  worker.join();
  EXPECT_EQ(got, "x");
}

TEST(WorkQueueTest, GetUntilGivesUpAtDeadline) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  const auto deadline = clock.Now() + 10s;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.GetUntil(deadline); });
  ASSERT_TRUE(Eventually([&] { return clock.waiters() > 0; }));
  clock.Advance(10s);
  worker.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(WorkQueueTest, RateLimitedAddsBackOffExponentiallyUntilForget) {
  FakeClock clock;
  WorkQueue q(&clock, std::make_unique<ExponentialFailureRateLimiter>(5ms, 1000s));
  q.AddRateLimited("a");  // 5 ms
  EXPECT_EQ(q.NumRequeues("a"), 1);
  clock.Advance(4ms);
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(1ms);
  ASSERT_EQ(q.Get(), "a");
  q.AddRateLimited("a");  // 10 ms, queued behind processing
  q.Done("a");
  clock.Advance(9ms);
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(1ms);
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.NumRequeues("a"), 2);
  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
}

TEST(WorkQueueTest, ShutDownHandsOutQueuedKeysThenStops) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.Add("a");
  q.AddAfter("later", 1s);
  q.ShutDown();
  q.Add("b");  // ignored
  EXPECT_TRUE(q.ShuttingDown());
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  clock.Advance(2s);  // the delayed add was dropped
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownWakesBlockedGetters) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  q.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(WorkQueueTest, ShutDownWithDrainWaitsForInFlightKeys) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  std::atomic<bool> drained{false};
  std::thread closer([&] {
    EXPECT_TRUE(q.ShutDownWithDrain());
    drained = true;
  });
  ASSERT_TRUE(Eventually([&] { return q.ShuttingDown(); }));
  EXPECT_FALSE(drained.load());
  q.Done("a");
  closer.join();
  EXPECT_TRUE(drained.load());
}

TEST(WorkQueueTest, ShutDownWithDrainDeadlineReportsTimeout) {
  FakeClock clock;
  WorkQueue q(&clock, NoDelayLimiter());
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  bool result = true;
  std::thread closer([&] { result = q.ShutDownWithDrain(clock.Now() + 5s); });
  ASSERT_TRUE(Eventually([&] { return clock.waiters() > 0; }));
  clock.Advance(5s);
  closer.join();
  EXPECT_FALSE(result);
  EXPECT_EQ(q.NumProcessing(), 1u);
}

}  // namespace
}  // namespace sg::kube
