#include "common/duration.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

using namespace std::chrono_literals;

TEST(DurationTest, Parses) {
  EXPECT_EQ(*ParseDuration("500ms"), 500ms);
  EXPECT_EQ(*ParseDuration("5s"), 5s);
  EXPECT_EQ(*ParseDuration("2m"), 2min);
  EXPECT_EQ(*ParseDuration("1h30m"), 90min);
  EXPECT_EQ(*ParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*ParseDuration("0"), 0ns);
  EXPECT_EQ(*ParseDuration("250us"), 250us);
}

TEST(DurationTest, RejectsWithTheText) {
  for (const char* bad : {"", "5", "s", "5x", "1..5s", "-5s", "5 s"}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find(std::string("\"") + bad + "\""), std::string::npos);
  }
}

TEST(DurationTest, FormatsRoundTrip) {
  EXPECT_EQ(FormatDuration(0ns), "0s");
  EXPECT_EQ(FormatDuration(1500ms), "1.5s");
  EXPECT_EQ(FormatDuration(2min), "2m");
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(2h), "2h");
  EXPECT_EQ(FormatDuration(12ms), "12ms");
  for (auto d : {1500ms, 90000ms, 12ms, 7200000ms}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(d)), d);
  }
}

}  // namespace
}  // namespace sg
