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

// A termination message is whatever the pod's process wrote: any tenant can
// put any JSON there. Nothing in it may throw (it used to: a non-string
// `reason` or `file` threw inside nlohmann's value(), and the uncaught
// exception ended the operator for every namespace).
TEST(JobResultTest, HostileTerminationMessagesNeverThrow) {
  const std::vector<std::string> messages = {
      R"({"error":{"reason":3,"file":1}})",
      R"({"error":{"reason":null,"file":[],"message":{},"sqlstate":7,"version":"x","line":1.5}})",
      R"({"error":"boom","exit_code":"3","current_version":"9","target_version":[1]})",
      R"({"error":[],"applied":{"a":1},"applied_count":"many","pending_count":1e300})",
      R"({"exit_code":99999999999,"current_version":-1e400,"pending_count":-99999999999})",
      R"([1,2,3])",
      R"("just a string")",
      "{\"error\":{\"message\":\"\xff\xfe\"}}",
      "",
  };
  for (const auto& m : messages) {
    SCOPED_TRACE(m);
    for (const char* cond : {"", "Complete", "Failed"}) {
      EXPECT_NO_THROW({
        JobOutcome o = ObserveJob(Job(cond, "PodFailurePolicy", "exit code 3"),
                                  {Pod(3, m, "2024-01-01T00:00:05Z")});
        (void)o.Reason();
        (void)o.Summary();
        (void)o.CurrentVersion();
        (void)o.TargetVersion();
        (void)o.PendingCount();
        (void)o.AppliedCount();
      });
    }
  }
  JobOutcome o = ObserveJob(Job("Failed"), {Pod(3, messages[0], "2024-01-01T00:00:05Z")});
  EXPECT_EQ(o.Reason(), "MigrationFailed");  // from the exit code, the bad reason ignored
}
// A pod that cannot start says why in its waiting state (missing Secret or
// key, image pull errors) or its PodScheduled condition; the Job never does.
TEST(JobResultTest, PodThatCannotStartSaysWhy) {
  json pod = {{"metadata", {{"name", "j1-abcde"}}},
              {"status",
               {{"phase", "Pending"},
                {"containerStatuses",
                 {{{"name", "migrate"},
                   {"state",
                    {{"waiting",
                      {{"reason", "CreateContainerConfigError"},
                       {"message", "secret \"no-such-secret\" not found"}}}}}}}}}}};
  JobOutcome o = ObserveJob(Job(""), {pod});
  EXPECT_EQ(o.phase, JobPhase::kActive);
  EXPECT_EQ(o.waiting_reason, "CreateContainerConfigError");
  EXPECT_EQ(o.waiting_message, "secret \"no-such-secret\" not found");
  EXPECT_EQ(o.waiting_pod, "j1-abcde");

  json pull = pod;
  pull["status"].erase("containerStatuses");
  pull["status"]["initContainerStatuses"] = {
      {{"name", "source"},
       {"state", {{"waiting", {{"reason", "ImagePullBackOff"}, {"message", "no such image"}}}}}}};
  EXPECT_EQ(ObserveJob(Job(""), {pull}).waiting_reason, "ImagePullBackOff");

  json unschedulable = {{"metadata", {{"name", "j1-x"}}},
                        {"status",
                         {{"phase", "Pending"},
                          {"conditions",
                           {{{"type", "PodScheduled"},
                             {"status", "False"},
                             {"reason", "Unschedulable"},
                             {"message", "0/1 nodes are available"}}}}}}};
  EXPECT_EQ(ObserveJob(Job(""), {unschedulable}).waiting_reason, "Unschedulable");

  // Ordinary start-up states are no problem.
  json creating = pod;
  creating["status"]["containerStatuses"][0]["state"]["waiting"] = {
      {"reason", "ContainerCreating"}};
  EXPECT_EQ(ObserveJob(Job(""), {creating}).waiting_reason, "");
}

}  // namespace
}  // namespace sg::controller
