#include "common/clock.h"

#include <gtest/gtest.h>

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

TEST(RealClockTest, Monotonic) {
  auto a = Clock::Real()->Now();
  auto b = Clock::Real()->Now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace sg
