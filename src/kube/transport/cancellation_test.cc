#include "kube/transport/cancellation.h"

#include <gtest/gtest.h>

#include <thread>

namespace sg::kube {
namespace {

TEST(CancellationTest, CallbacksRunOnceAndLateRegistrationRunsAtOnce) {
  Cancellation c;
  int runs = 0;
  auto h = c.OnCancel([&] { ++runs; });
  EXPECT_NE(h, 0u);
  int removed_runs = 0;
  c.Remove(c.OnCancel([&] { ++removed_runs; }));
  c.Cancel();
  c.Cancel();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(removed_runs, 0);
  EXPECT_TRUE(c.cancelled());
  int late = 0;
  EXPECT_EQ(c.OnCancel([&] { ++late; }), 0u);
  EXPECT_EQ(late, 1);
}

TEST(CancellationTest, WaitUntilReturnsOnCancelOrFakeDeadline) {
  FakeClock clock;
  Cancellation c;
  std::thread t([&] {
    // Wait for the waiter to park, then advance past its deadline.
    while (clock.waiters() == 0) std::this_thread::yield();
    clock.Advance(std::chrono::seconds(10));
  });
  EXPECT_FALSE(c.WaitUntil(&clock, clock.Now() + std::chrono::seconds(5)));
  t.join();
  std::thread canceller([&] {
    while (clock.waiters() == 0) std::this_thread::yield();
    c.Cancel();
  });
  EXPECT_TRUE(c.WaitUntil(&clock, clock.Now() + std::chrono::hours(1)));
  canceller.join();
}

TEST(CancellationTest, RegistrationIsRemovedOnScopeExit) {
  Cancellation c;
  int runs = 0;
  {
    CancelRegistration r(c, [&] { ++runs; });
  }
  c.Cancel();
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace sg::kube
