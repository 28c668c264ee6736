#include "controller/job/job_result.h"

#include <gtest/gtest.h>

namespace sg::controller {
namespace {

using nlohmann::json;

json Job(const char* cond, const char* reason = "", const char* message = "") {
  json j = {{"metadata", {{"name", "j1"}, {"annotations", {{"schemagate.dev/fence-token", "4"}}}}},
            {"status", {{"startTime", "2024-01-01T00:00:00Z"}}}};
  if (*cond) {
    j["status"]["conditions"] = {
        {{"type", cond}, {"status", "True"}, {"reason", reason}, {"message", message}}};
  }
  return j;
}

json Pod(int code, const std::string& message, const std::string& at) {
  return {
      {"status",
       {{"containerStatuses",
         {{{"name", "migrate"},
           {"state",
            {{"terminated", {{"exitCode", code}, {"message", message}, {"finishedAt", at}}}}}}}}}}};
}

TEST(JobResultTest, ActiveWithoutPods) {
  auto o = ObserveJob(Job(""), {});
  EXPECT_EQ(o.phase, JobPhase::kActive);
  EXPECT_EQ(o.fence_token, 4);
}

TEST(JobResultTest, SucceededReadsRunnerJson) {
  auto o = ObserveJob(Job("Complete"),
                      {Pod(0, R"({"command":"up","ok":true,"exit_code":0,"current_version":3,
                                 "applied":[{"version":2},{"version":3}]})",
                           "2024-01-01T00:00:05Z")});
  EXPECT_EQ(o.phase, JobPhase::kSucceeded);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.CurrentVersion(), 3);
  EXPECT_EQ(o.AppliedCount(), 2);
}

TEST(JobResultTest, FailedNamesFileVersionSqlstateFromLatestPod) {
  auto o = ObserveJob(
      Job("Failed", "PodFailurePolicy"),
      {Pod(7, "not json", "2024-01-01T00:00:01Z"),
       Pod(3, R"({"ok":false,"exit_code":3,"current_version":1,"error":{"reason":"MigrationFailed",
              "message":"relation \"no_such_table\" does not exist","version":2,
              "file":"0002_break.up.sql","line":1,"sqlstate":"42P01"}})",
           "2024-01-01T00:00:09Z")});
  EXPECT_EQ(o.phase, JobPhase::kFailed);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.Reason(), "MigrationFailed");
  EXPECT_EQ(o.Summary(),
            "0002_break.up.sql (version 2) line 1: SQLSTATE 42P01: relation \"no_such_table\" "
            "does not exist");
}

TEST(JobResultTest, RunnerSentenceNamingTheFileIsNotRepeated) {
  // What `schemagate migrate up` really writes: a sentence with file, line and SQLSTATE.
  auto o = ObserveJob(Job("Failed", "PodFailurePolicy"),
                      {Pod(3, R"({"ok":false,"exit_code":3,"error":{"reason":"MigrationFailed",
              "message":"0005_tier.up.sql:2: column \"nope\" does not exist (SQLSTATE 42703); the migration was rolled back, the database is as before it",
              "version":5,"file":"0005_tier.up.sql","line":2,"sqlstate":"42703"}})",
                           "2024-01-01T00:00:09Z")});
  EXPECT_EQ(o.Summary(),
            "0005_tier.up.sql:2: column \"nope\" does not exist (SQLSTATE 42703); the migration "
            "was rolled back, the database is as before it");
}

TEST(JobResultTest, PodGoneExitCodeFromJobMessage) {
  auto o = ObserveJob(Job("Failed", "PodFailurePolicy",
                          "Container migrate for pod ns/p failed with exit code 4 matching FailJob "
                          "rule at index 1"),
                      {});
  EXPECT_EQ(o.exit_code, 4);
  EXPECT_EQ(o.Reason(), "ChecksumMismatch");
  auto d =
      ObserveJob(Job("Failed", "DeadlineExceeded", "Job was active longer than specified"), {});
  EXPECT_EQ(d.Reason(), "DeadlineExceeded");
  EXPECT_FALSE(d.exit_code);
}

}  // namespace
}  // namespace sg::controller
