// Many runners at once, and runners killed mid-migration: every version is
// applied exactly once and nothing is left dirty.
#include <signal.h>

#include <chrono>
#include <thread>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using namespace std::chrono_literals;

class ConcurrencyTest : public MigrateTest {
 protected:
  // Each migration creates a table (fails if run twice) and logs itself.
  void WriteNonIdempotent(int n) {
    Write("0001_log.up.sql",
          "CREATE TABLE applied_log (version int);\n"
          "INSERT INTO applied_log VALUES (1);\n");
    for (int v = 2; v <= n; ++v) {
      Write("000" + std::to_string(v) + "_t.up.sql",
            "CREATE TABLE t" + std::to_string(v) + " (x int);\nINSERT INTO applied_log VALUES (" +
                std::to_string(v) + ");\n");
    }
  }
};

TEST_F(ConcurrencyTest, SixteenConcurrentRunnersTwentyTimes) {
  WriteNonIdempotent(5);
  for (int round = 0; round < 20; ++round) {
    if (round > 0) url_ = SharedPgServer().CreateDatabase("c");
    std::vector<std::unique_ptr<Process>> runners;
    for (int i = 0; i < 16; ++i) {
      runners.push_back(std::make_unique<Process>(std::vector<std::string>{
          SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_,
          "--identity", "runner-" + std::to_string(i)}));
    }
    for (auto& p : runners) {
      RunResult r = p->Wait();
      ASSERT_EQ(r.exit_code, 0) << "round " << round << ": " << r.err;
    }
    ASSERT_EQ(Scalar("SELECT count(*) FROM applied_log"), 5) << "round " << round;
    ASSERT_EQ(Scalar("SELECT count(DISTINCT version) FROM applied_log"), 5);
    ASSERT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  }
}

TEST_F(ConcurrencyTest, KilledDuringALongMigrationThenRerunAppliesExactlyOnce) {
  WriteNonIdempotent(3);
  // Migration 2 sleeps while the marker table exists (so the rerun is quick).
  Write("0002_t.up.sql",
        "CREATE TABLE t2 (x int);\nINSERT INTO applied_log VALUES (2);\n"
        "SELECT pg_sleep(CASE WHEN to_regclass('slow_marker') IS NULL THEN 0 ELSE 60 END);\n");
  Query("CREATE TABLE slow_marker ()");
  Process victim({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' "
                "AND application_name LIKE 'schemagate%'") == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "migration 2 never started";
    std::this_thread::sleep_for(20ms);
  }
  victim.Kill(SIGKILL);
  EXPECT_EQ(victim.Wait().signal, SIGKILL);
  Query("DROP TABLE slow_marker");
  RunResult rerun = Migrate({"up"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM applied_log WHERE version = 2"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM applied_log"), 3);
}

TEST_F(ConcurrencyTest, KilledDuringANoTransactionMigrationBlocksUntilRepair) {
  WriteNonIdempotent(1);
  Write("0002_slow.up.sql",
        "-- schemagate:no-transaction\nCREATE TABLE t2 (x int);\n"
        "SELECT pg_sleep(60);\n");
  Process victim({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'") ==
         0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(20ms);
  }
  victim.Kill(SIGKILL);
  victim.Wait();
  int code = -1;
  nlohmann::json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 6);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("interrupted"), std::string::npos);
  EXPECT_EQ(
      Query("SELECT state FROM schemagate_migrations WHERE version = 2")[0][0].as<std::string>(),
      "running");
}

}  // namespace
}  // namespace sg::testing
