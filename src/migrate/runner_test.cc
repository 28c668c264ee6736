// The runner's policies (lock polling, retry backoff, fencing, exit codes)
// over an in-memory store and a fake clock: no database, no real sleeping.
#include "migrate/runner.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>

namespace sg::migrate {
namespace {

using namespace std::chrono_literals;

class FakeStore : public MigrationStore {
 public:
  StatusOr<StoreState> Read() override {
    StoreState s;
    s.table_exists = true;
    s.records = records;
    s.fence_token = fence;
    return s;
  }
  Status EnsureTables() override { return OkStatus(); }
  StatusOr<bool> TryLock() override {
    ++lock_attempts;
    return lock_attempts > lock_busy_for;
  }
  Status Unlock() override {
    ++unlocks;
    return OkStatus();
  }
  std::string DescribeLockHolder() override { return "held by backend pid 42"; }
  ExecResult Apply(const SourceMigration& m, const ExecOptions&) override {
    ExecResult r;
    if (!scripted.empty()) {
      r = scripted.front();
      scripted.pop_front();
    }
    if (r.outcome == ExecOutcome::kDone) {
      AppliedRecord rec;
      rec.version = m.migration.version;
      rec.name = m.migration.name;
      rec.checksum = m.migration.checksum;
      records.push_back(rec);
    }
    return r;
  }
  ExecResult Revert(const SourceMigration&, const ExecOptions&) override { return {}; }
  Status Baseline(const std::vector<const SourceMigration*>&) override { return OkStatus(); }
  StatusOr<std::vector<int64_t>> ClearUnfinished() override { return std::vector<int64_t>{}; }
  std::vector<std::string> InvalidIndexes() override { return {}; }
  ExecResult TakeFence(int64_t token, const ExecOptions&) override {
    ExecResult r;
    if (fence > token) {
      r.outcome = ExecOutcome::kFenced;
    } else {
      fence = token;
    }
    return r;
  }
  void Cancel() override {}

  std::vector<AppliedRecord> records;
  int64_t fence = 0;
  int lock_busy_for = 0;
  int lock_attempts = 0;
  int unlocks = 0;
  std::deque<ExecResult> scripted;
};

Source TwoMigrations() {
  Source s;
  s.dir = "/m";
  for (int v : {1, 2}) {
    SourceMigration m;
    m.migration.version = v;
    m.migration.name = "m" + std::to_string(v);
    m.migration.checksum = "c" + std::to_string(v);
    m.migration.up.path = "/m/000" + std::to_string(v) + "_m" + std::to_string(v) + ".up.sql";
    m.up_statements = {{"SELECT 1", 1}};
    s.migrations.push_back(m);
  }
  return s;
}

ExecResult SqlError(const std::string& sqlstate) {
  ExecResult r;
  r.outcome = ExecOutcome::kSqlError;
  r.failure.sqlstate = sqlstate;
  r.failure.message = "boom";
  return r;
}

TEST(RunnerTest, PollsTheLockWithGrowingBackoffUntilLockWait) {
  FakeStore store;
  store.lock_busy_for = 1'000'000;
  FakeClock clock;
  RunnerOptions o;
  o.lock_wait = 10s;
  Runner runner(&store, &clock, o, nullptr);
  auto start = clock.Now();
  Outcome out = runner.Up(TwoMigrations(), std::nullopt);
  EXPECT_EQ(out.code, ExitCode::kLock);
  EXPECT_EQ(out.report["error"]["reason"], "LockNotObtained");
  EXPECT_NE(out.report["error"]["message"].get<std::string>().find("pid 42"), std::string::npos);
  EXPECT_EQ(clock.Now() - start, 10s);  // waited exactly --lock-wait, no longer
  auto sleeps = clock.sleeps();
  ASSERT_GT(sleeps.size(), 5u);
  EXPECT_GE(sleeps[0], 25ms);
  EXPECT_LT(sleeps[0], 40ms);
  EXPECT_LE(sleeps[sleeps.size() - 2], 3s);  // capped (2 s + jitter)
  EXPECT_TRUE(store.records.empty());
}

TEST(RunnerTest, AppliesOnceTheLockFrees) {
  FakeStore store;
  store.lock_busy_for = 3;
  FakeClock clock;
  Runner runner(&store, &clock, RunnerOptions{}, nullptr);
  Outcome out = runner.Up(TwoMigrations(), std::nullopt);
  EXPECT_EQ(out.code, ExitCode::kOk) << out.report.dump();
  EXPECT_EQ(store.records.size(), 2u);
  EXPECT_EQ(store.lock_attempts, 4);
  EXPECT_EQ(store.unlocks, 1);
}

TEST(RunnerTest, NothingPendingTakesNoLock) {
  FakeStore store;
  FakeClock clock;
  Source s = TwoMigrations();
  for (auto& m : s.migrations) {
    AppliedRecord r;
    r.version = m.migration.version;
    r.name = m.migration.name;
    r.checksum = m.migration.checksum;
    store.records.push_back(r);
  }
  Runner runner(&store, &clock, RunnerOptions{}, nullptr);
  EXPECT_EQ(runner.Up(s, std::nullopt).code, ExitCode::kOk);
  EXPECT_EQ(store.lock_attempts, 0);
}

TEST(RunnerTest, LockTimeoutRetriesWithDoublingBackoffThenExitFive) {
  FakeStore store;
  for (int i = 0; i < 4; ++i) store.scripted.push_back(SqlError("55P03"));
  FakeClock clock;
  RunnerOptions o;
  o.lock_retries = 3;
  o.retry_backoff = 1s;
  o.lock = LockMode::kNone;
  Runner runner(&store, &clock, o, nullptr);
  Outcome out = runner.Up(TwoMigrations(), std::nullopt);
  EXPECT_EQ(out.code, ExitCode::kLock);
  EXPECT_EQ(out.report["error"]["reason"], "LockTimeout");
  EXPECT_EQ(clock.sleeps(), (std::vector<Clock::Duration>{1s, 2s, 4s}));
  EXPECT_TRUE(store.records.empty());
}

TEST(RunnerTest, LockTimeoutThenSuccess) {
  FakeStore store;
  store.scripted.push_back(SqlError("55P03"));
  FakeClock clock;
  RunnerOptions o;
  o.lock = LockMode::kNone;
  Runner runner(&store, &clock, o, nullptr);
  EXPECT_EQ(runner.Up(TwoMigrations(), std::nullopt).code, ExitCode::kOk);
  EXPECT_EQ(store.records.size(), 2u);
}

TEST(RunnerTest, OtherSqlErrorsAreNotRetried) {
  FakeStore store;
  store.scripted.push_back(SqlError("42P01"));
  FakeClock clock;
  Runner runner(&store, &clock, RunnerOptions{}, nullptr);
  Outcome out = runner.Up(TwoMigrations(), std::nullopt);
  EXPECT_EQ(out.code, ExitCode::kMigrationFailed);
  EXPECT_EQ(out.report["error"]["file"], "0001_m1.up.sql");
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_TRUE(store.records.empty());
}

TEST(RunnerTest, HigherRecordedFenceStopsBeforeAnything) {
  FakeStore store;
  store.fence = 7;
  FakeClock clock;
  RunnerOptions o;
  o.fence_token = 6;
  Runner runner(&store, &clock, o, nullptr);
  Outcome out = runner.Up(TwoMigrations(), std::nullopt);
  EXPECT_EQ(out.code, ExitCode::kLock);
  EXPECT_EQ(out.report["error"]["reason"], "Fenced");
  EXPECT_EQ(store.lock_attempts, 0);
}

TEST(RunnerTest, CompactReportFitsATerminationMessage) {
  Json big = {{"command", "up"}, {"ok", true}, {"exit_code", 0}, {"applied", Json::array()}};
  for (int i = 0; i < 500; ++i) {
    big["applied"].push_back(
        {{"version", i}, {"name", std::string(40, 'x')}, {"checksum", std::string(64, 'c')}});
  }
  std::string compact = CompactReport(big);
  EXPECT_LE(compact.size(), 4096u);
  Json parsed = Json::parse(compact);
  EXPECT_EQ(parsed["applied_count"], 500);
  EXPECT_EQ(parsed["applied"].back()["version"], 499);
}

// Every printer is total: random bytes in file names, SQL and messages (a
// Latin-1 file name, binary files, a server message echoing them) never
// throw, always give JSON, and the termination message fits and is cut on
// character boundaries.
TEST(RunnerTest, ReportsOfAnyBytesAreValidJson) {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("SG_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("ReportsOfAnyBytesAreValidJson seed %u (SG_SEED=%u to replay)\n", seed, seed);
  std::mt19937 rng(seed);
  auto bytes = [&](size_t n, bool utf8) {
    static const char* kChars[] = {"a",  "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "'",
                                   "\"", "\\"};
    std::string out;
    while (out.size() < n) {
      if (utf8) {
        out += kChars[rng() % 7];
      } else {
        out += static_cast<char>(rng() % 256);
      }
    }
    return out;
  };
  for (int i = 0; i < 300; ++i) {
    const bool utf8 = i % 2 == 0;
    const size_t n = 1 + rng() % 6000;
    Json r = {{"command", "up"},
              {"ok", false},
              {"exit_code", 3},
              {"applied", Json::array({{{"version", 1}, {"file", bytes(n / 4 + 1, utf8)}}})},
              {"error",
               {{"reason", "MigrationFailed"},
                {"file", bytes(40, utf8)},
                {"message", bytes(n, utf8)},
                {"statement", bytes(n, utf8)}}}};
    std::string full, compact;
    ASSERT_NO_THROW(full = DumpReport(r)) << "input " << i;
    ASSERT_NO_THROW(compact = CompactReport(r)) << "input " << i;
    EXPECT_LE(compact.size(), 4096u) << "input " << i;
    // Strict parsing: both are UTF-8 JSON.
    ASSERT_NO_THROW(Json::parse(full)) << "input " << i;
    Json parsed;
    ASSERT_NO_THROW(parsed = Json::parse(compact)) << "input " << i;
    EXPECT_EQ(parsed["exit_code"], 3);
    if (utf8) {
      // Valid text is cut, never mangled.
      EXPECT_EQ(compact.find("\xef\xbf\xbd"), std::string::npos) << "input " << i;
    }
  }
}

}  // namespace
}  // namespace sg::migrate
