#include "migrate/planner.h"

#include <gtest/gtest.h>

namespace sg::migrate {
namespace {

SourceMigration Make(int64_t v, const std::string& name, bool with_down = true) {
  SourceMigration m;
  m.migration.version = v;
  m.migration.name = name;
  m.migration.checksum = "sum" + std::to_string(v);
  m.migration.up.path = "/m/" + std::to_string(v) + "_" + name + ".up.sql";
  m.up_statements = {{"SELECT 1", 1}};
  if (with_down) {
    m.migration.down =
        Script{"/m/" + std::to_string(v) + "_" + name + ".down.sql", "SELECT 1", false};
    m.down_statements = {{"SELECT 1", 1}};
  }
  return m;
}

AppliedRecord Rec(int64_t v, const std::string& name, const std::string& checksum = "",
                  RecordState state = RecordState::kApplied) {
  AppliedRecord r;
  r.version = v;
  r.name = name;
  r.checksum = checksum.empty() ? "sum" + std::to_string(v) : checksum;
  r.state = state;
  return r;
}

Source Src(std::vector<SourceMigration> ms) {
  Source s;
  s.dir = "/m";
  s.migrations = std::move(ms);
  return s;
}

std::vector<int64_t> Versions(const std::vector<const SourceMigration*>& ms) {
  std::vector<int64_t> out;
  for (auto* m : ms) out.push_back(m->migration.version);
  return out;
}

TEST(PlannerTest, UpAppliesPendingUpToTarget) {
  Source s = Src({Make(1, "a"), Make(2, "b"), Make(3, "c")});
  std::vector<AppliedRecord> recs = {Rec(1, "a")};
  EXPECT_EQ(Versions(*PlanUp(s, recs, std::nullopt)), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Versions(*PlanUp(s, recs, 2)), (std::vector<int64_t>{2}));
  EXPECT_EQ(PlanUp(s, recs, 5).status().code(), Code::kInvalid);
  std::vector<AppliedRecord> at3 = {Rec(1, "a"), Rec(2, "b"), Rec(3, "c")};
  EXPECT_EQ(PlanUp(s, at3, 2).status().code(), Code::kInvalid);
  EXPECT_TRUE(PlanUp(s, at3, std::nullopt)->empty());
}

TEST(PlannerTest, DriftOfEveryKind) {
  Source s = Src({Make(1, "a"), Make(2, "b"), Make(4, "d")});
  std::vector<AppliedRecord> recs = {Rec(1, "a", "other"), Rec(3, "c"), Rec(4, "d")};
  auto drift = DetectDrift(s, recs, false);
  ASSERT_EQ(drift.size(), 3u);
  EXPECT_EQ(drift[0].kind, DriftKind::kChecksumMismatch);
  EXPECT_EQ(drift[0].file, "1_a.up.sql");
  EXPECT_EQ(drift[1].kind, DriftKind::kOutOfOrder);
  EXPECT_EQ(drift[1].version, 2);
  EXPECT_EQ(drift[2].kind, DriftKind::kMissingFile);
  EXPECT_EQ(drift[2].version, 3);
  EXPECT_EQ(DetectDrift(s, recs, true).size(), 2u);  // out-of-order allowed
}

TEST(PlannerTest, UnfinishedRecordsAreNotDriftButBlock) {
  Source s = Src({Make(1, "a")});
  std::vector<AppliedRecord> recs = {Rec(1, "a", "changed", RecordState::kFailed)};
  EXPECT_TRUE(DetectDrift(s, recs, false).empty());
  ASSERT_EQ(Unfinished(recs).size(), 1u);
  EXPECT_EQ(CurrentVersion(recs), 0);
}

TEST(PlannerTest, DownToAndSteps) {
  Source s = Src({Make(1, "a"), Make(2, "b"), Make(3, "c")});
  std::vector<AppliedRecord> recs = {Rec(1, "a"), Rec(2, "b"), Rec(3, "c")};
  auto to1 = PlanDown(s, recs, 1, std::nullopt);
  ASSERT_TRUE(to1.ok());
  ASSERT_EQ(to1->size(), 2u);
  EXPECT_EQ((*to1)[0].record->version, 3);
  EXPECT_EQ((*to1)[1].record->version, 2);
  EXPECT_EQ(PlanDown(s, recs, std::nullopt, 1)->size(), 1u);
  EXPECT_EQ(PlanDown(s, recs, 0, std::nullopt)->size(), 3u);
  EXPECT_EQ(PlanDown(s, recs, 7, std::nullopt).status().code(), Code::kInvalid);
  EXPECT_EQ(PlanDown(s, recs, 1, 1).status().code(), Code::kInvalid);
  EXPECT_EQ(PlanDown(s, recs, std::nullopt, std::nullopt).status().code(), Code::kInvalid);
  EXPECT_EQ(PlanDown(s, recs, 0, std::nullopt, /*all=*/true).status().code(), Code::kInvalid);
}

// Issue 11, item 13: sets that start at version 0 exist; `--to 0` keeps
// version 0 applied, `--all` reverts it too.
TEST(PlannerTest, DownAllRevertsVersionZeroToo) {
  Source s = Src({Make(0, "init"), Make(1, "a")});
  std::vector<AppliedRecord> recs = {Rec(0, "init"), Rec(1, "a")};
  EXPECT_EQ(PlanDown(s, recs, 0, std::nullopt)->size(), 1u);
  auto all = PlanDown(s, recs, std::nullopt, std::nullopt, /*all=*/true);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].record->version, 0);
}

TEST(PlannerTest, DownNeedsDownFiles) {
  Source s = Src({Make(1, "a"), Make(2, "b", false)});
  std::vector<AppliedRecord> recs = {Rec(1, "a"), Rec(2, "b")};
  auto p = PlanDown(s, recs, std::nullopt, 1);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("2_b.down.sql is missing"), std::string::npos) << p.status();
}

}  // namespace
}  // namespace sg::migrate
