#include "observe/log/log_flags.h"

#include <gtest/gtest.h>

namespace sg::observe {
namespace {

TEST(LogFlagsTest, ParsesAndBuildsALogger) {
  CLI::App app;
  LogFlags flags;
  AddLogFlags(&app, &flags);
  app.parse("--log-level=debug --log-format json", false);
  EXPECT_EQ(flags.level, "debug");
  EXPECT_EQ(flags.format, "json");
  auto log = flags.NewLogger();
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->level(), LogLevel::kDebug);
}

TEST(LogFlagsTest, RejectsUnknownValues) {
  CLI::App app;
  LogFlags flags;
  AddLogFlags(&app, &flags);
  EXPECT_THROW(app.parse("--log-format xml", false), CLI::ValidationError);
}

}  // namespace
}  // namespace sg::observe
