#include "common/clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace sg {
namespace {

using namespace std::chrono_literals;

TEST(FakeClockTest, SleepAdvancesBothClocks) {
  FakeClock clock;
  auto mono = clock.Now();
  auto wall = clock.WallNow();
  clock.SleepFor(3s);
  clock.Advance(2s);
  EXPECT_EQ(clock.Now() - mono, 5s);
  EXPECT_EQ(clock.WallNow() - wall, 5s);
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], 3s);
}

TEST(FakeClockTest, AdvanceWallShiftsOnlyCalendar) {
  FakeClock clock;
  auto mono = clock.Now();
  auto wall = clock.WallNow();
  clock.AdvanceWall(7s);
  EXPECT_EQ(clock.Now(), mono);
  EXPECT_EQ(clock.WallNow() - wall, 7s);
}

TEST(FakeClockTest, WaitUntilPastDeadlineReturnsAtOnce) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  clock.WaitUntil(lock, cv, clock.Now());
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(FakeClockTest, AdvanceReleasesWaiterAtItsDeadline) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  const auto deadline = clock.Now() + 10s;
  bool done = false;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (clock.Now() < deadline) clock.WaitUntil(lock, cv, deadline);
    done = true;
  });
  // Wait (bounded) until the waiter is parked on the fake timer.
  for (int i = 0; i < 2000 && clock.waiters() == 0; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  clock.Advance(9s);
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_FALSE(done);
  }
  clock.Advance(1s);
  waiter.join();
  EXPECT_TRUE(done);
}

TEST(RealClockTest, WaitUntilHonoursDeadline) {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  const auto deadline = Clock::Real()->Now() + 2ms;
  while (Clock::Real()->Now() < deadline) Clock::Real()->WaitUntil(lock, cv, deadline);
  EXPECT_GE(Clock::Real()->Now(), deadline);
}

TEST(RealClockTest, WaitUntilMaxWaitsForNotification) {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::thread notifier([&] {
    std::lock_guard<std::mutex> l(mu);
    ready = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  while (!ready) Clock::Real()->WaitUntil(lock, cv, Clock::TimePoint::max());
  lock.unlock();
  notifier.join();
  EXPECT_TRUE(ready);
}

TEST(RealClockTest, Monotonic) {
  auto a = Clock::Real()->Now();
  auto b = Clock::Real()->Now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace sg
