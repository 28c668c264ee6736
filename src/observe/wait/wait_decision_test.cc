#include "observe/wait/wait_decision.h"

#include <gtest/gtest.h>

namespace sg::observe {
namespace {

using nlohmann::json;
using State = WaitDecision::State;

json Cond(const std::string& type, const std::string& status, const std::string& reason = "",
          const std::string& message = "", std::optional<int64_t> og = std::nullopt) {
  json c = {{"type", type}, {"status", status}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  if (og) c["observedGeneration"] = *og;
  return c;
}

json Sm(int64_t generation, std::optional<int64_t> observed, std::vector<json> conditions,
        std::optional<int64_t> applied = std::nullopt) {
  json o = {{"apiVersion", "schemagate.dev/v1alpha1"},
            {"kind", "SchemaMigration"},
            {"metadata", {{"name", "app"}, {"namespace", "default"}, {"generation", generation}}}};
  if (observed || !conditions.empty() || applied) {
    o["status"] = json::object();
    if (observed) o["status"]["observedGeneration"] = *observed;
    if (!conditions.empty()) o["status"]["conditions"] = conditions;
    if (applied) o["status"]["appliedVersion"] = *applied;
  }
  return o;
}

TEST(WaitDecisionTest, Absent) { EXPECT_EQ(Decide(nullptr, {}).state, State::kAbsent); }

TEST(WaitDecisionTest, ReadyWhenCurrent) {
  json o = Sm(2, 2, {Cond("Ready", "True", "Migrated", "at version 5")}, 5);
  auto d = Decide(&o, {});
  EXPECT_EQ(d.state, State::kReady);
  EXPECT_EQ(d.detail, "ready: applied version 5");
}

TEST(WaitDecisionTest, NoStatusOrNoConditionsIsWaiting) {
  json none = Sm(1, std::nullopt, {});
  EXPECT_EQ(Decide(&none, {}).state, State::kWaiting);
  EXPECT_EQ(Decide(&none, {}).detail, "waiting for the controller to report a status");
  json empty = Sm(1, 1, {});
  EXPECT_EQ(Decide(&empty, {}).state, State::kWaiting);  // kstatus would say Current; we do not
  EXPECT_EQ(Decide(&empty, {}).detail, "no conditions yet; applied version none");
}

TEST(WaitDecisionTest, StaleObservedGenerationIsNotReady) {
  // The spec moved to generation 3; the status still describes generation 2.
  json o = Sm(3, 2, {Cond("Ready", "True", "Migrated")}, 5);
  auto d = Decide(&o, {});
  EXPECT_EQ(d.state, State::kWaiting);
  EXPECT_EQ(d.detail,
            "waiting for the controller to observe generation 3 (observed 2); "
            "Ready=True (Migrated)");
  // A Ready condition written for an older generation does not count either.
  json c = Sm(3, 3, {Cond("Ready", "True", "Migrated", "", 2)}, 5);
  EXPECT_EQ(Decide(&c, {}).state, State::kWaiting);
  json current = Sm(3, 3, {Cond("Ready", "True", "Migrated", "", 3)}, 5);
  EXPECT_EQ(Decide(&current, {}).state, State::kReady);
}

TEST(WaitDecisionTest, ReadyFalseIsWaitingWithReasons) {
  json o =
      Sm(1, 1,
         {Cond("Ready", "False", "JobRunning", "Job app-1 running"),
          Cond("Reconciling", "True", "JobRunning", "Job app-1 running"), Cond("Stalled", "False")},
         3);
  auto d = Decide(&o, {});
  EXPECT_EQ(d.state, State::kWaiting);
  EXPECT_EQ(d.detail,
            "Ready=False (JobRunning: Job app-1 running), Reconciling=True (JobRunning: Job "
            "app-1 running), Stalled=False; applied version 3");
}

TEST(WaitDecisionTest, MinVersion) {
  json o = Sm(1, 1, {Cond("Ready", "True", "Migrated")}, 3);
  WaitCriteria c;
  c.min_version = 5;
  auto d = Decide(&o, c);
  EXPECT_EQ(d.state, State::kWaiting);
  EXPECT_EQ(d.detail, "Ready=True but applied version 3 < required 5");
  c.min_version = 3;
  EXPECT_EQ(Decide(&o, c).state, State::kReady);
  EXPECT_EQ(Decide(&o, c).detail, "ready: applied version 3 >= 3");
  json none = Sm(1, 1, {Cond("Ready", "True")});
  EXPECT_EQ(Decide(&none, c).state, State::kWaiting);  // no appliedVersion reported
  EXPECT_EQ(Decide(&none, {}).state, State::kReady);   // ...fine without a minimum
}

TEST(WaitDecisionTest, Stalled) {
  json o = Sm(4, 4,
              {Cond("Ready", "False", "MigrationFailed", "0003_x.up.sql: SQLSTATE 42P01"),
               Cond("Stalled", "True", "MigrationFailed", "0003_x.up.sql: SQLSTATE 42P01")},
              2);
  auto d = Decide(&o, {});
  EXPECT_EQ(d.state, State::kStalled);
  EXPECT_NE(d.detail.find("SQLSTATE 42P01"), std::string::npos);
  // Stalled for an old generation: the controller has not looked at the fix yet.
  json stale = Sm(5, 4, {Cond("Stalled", "True", "MigrationFailed")});
  EXPECT_EQ(Decide(&stale, {}).state, State::kWaiting);
  json stale_cond = Sm(5, 5, {Cond("Stalled", "True", "MigrationFailed", "", 4)});
  EXPECT_EQ(Decide(&stale_cond, {}).state, State::kWaiting);
}

TEST(WaitDecisionTest, TerminatingIsNotReady) {
  json o = Sm(1, 1, {Cond("Ready", "True")}, 1);
  o["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  EXPECT_EQ(Decide(&o, {}).state, State::kWaiting);
}

TEST(WaitDecisionTest, MalformedFieldsAreWaitingNotCrashing) {
  json o = {{"metadata", {{"generation", "x"}}},
            {"status", {{"observedGeneration", 0}, {"conditions", "nope"}}}};
  EXPECT_EQ(Decide(&o, {}).state, State::kWaiting);
  json arr = json::array();
  EXPECT_EQ(Decide(&arr, {}).state, State::kAbsent);
}

}  // namespace
}  // namespace sg::observe
