// Lock timeouts, the runner lock, fencing and statement timeouts: nothing
// ever hangs, and every wait ends with its own exit code.
#include <chrono>
#include <thread>

#include "migrate/conninfo.h"
#include "migrate/pg_store.h"
#include "migrate/source.h"
#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Polls `pred` until true or the deadline; returns its last value.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::seconds deadline = 30s) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class LockTest : public MigrateTest {
 protected:
  void SetUp() override {
    MigrateTest::SetUp();
    Write("0001_t.up.sql", "CREATE TABLE t (id int);\n");
    ASSERT_EQ(Migrate({"up"}).exit_code, 0);
    Write("0002_alter.up.sql", "ALTER TABLE t ADD COLUMN name text;\n");
  }
  int64_t WaitingSchemagateBackends() {
    return Scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'schemagate%' "
        "AND wait_event_type = 'Lock'");
  }
};

TEST_F(LockTest, LockTimeoutIsRetriedThenExitFive) {
  pqxx::connection blocker_conn(url_);
  pqxx::work blocker(blocker_conn);
  blocker.exec("LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
  int code = -1;
  json r = MigrateJson({"up", "--lock-timeout", "100ms", "--lock-retries", "2"}, &code);
  EXPECT_EQ(code, 5);
  EXPECT_EQ(r["error"]["reason"], "LockTimeout");
  EXPECT_EQ(r["error"]["sqlstate"], "55P03");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("3 times"), std::string::npos);
  blocker.abort();
  EXPECT_EQ(Scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), 1);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1}));
}

TEST_F(LockTest, RetrySucceedsOnceTheBlockerGoes) {
  auto blocker_conn = std::make_unique<pqxx::connection>(url_);
  auto blocker = std::make_unique<pqxx::work>(*blocker_conn);
  blocker->exec("LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
  Process runner({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_,
                  "--lock-timeout", "300ms", "--lock-retries", "10"});
  // The first attempt waits on the lock, then gives up (55P03) ...
  ASSERT_TRUE(Eventually([&] { return WaitingSchemagateBackends() == 1; }));
  ASSERT_TRUE(Eventually([&] { return WaitingSchemagateBackends() == 0; }));
  // ... and while it backs off the blocker commits.
  blocker->commit();
  RunResult r = runner.Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("55P03"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retrying"), std::string::npos) << r.err;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
}

int64_t RunnerLockKey(const std::string& url) {
  auto conn = migrate::ConnInfo::Parse(url);
  auto store = migrate::PgStore::Connect(*conn, {});
  return (*store)->lock_key();
}

TEST_F(LockTest, RunnerLockHeldElsewhereIsExitFiveNamingTheHolder) {
  pqxx::connection holder(url_);
  pqxx::nontransaction h(holder);
  h.exec("SET application_name = 'someone-else'");
  h.exec_params("SELECT pg_advisory_lock($1)", RunnerLockKey(url_));
  int code = -1;
  json r = MigrateJson({"up", "--lock-wait", "500ms"}, &code);
  EXPECT_EQ(code, 5);
  EXPECT_EQ(r["error"]["reason"], "LockNotObtained");
  std::string msg = r["error"]["message"];
  EXPECT_NE(msg.find("held by backend pid " + std::to_string(holder.backendpid())),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("someone-else"), std::string::npos) << msg;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1}));
}

TEST_F(LockTest, RunnerLockIsPolledUntilReleased) {
  auto holder = std::make_unique<pqxx::connection>(url_);
  {
    pqxx::nontransaction h(*holder);
    h.exec_params("SELECT pg_advisory_lock($1)", RunnerLockKey(url_));
  }
  Process runner({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_,
                  "--lock-wait", "60s"});
  // The runner's lock connection appears; it polls, it does not block.
  ASSERT_TRUE(Eventually([&] {
    return Scalar(
               "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
               "'schemagate lock%'") == 1;
  }));
  EXPECT_EQ(WaitingSchemagateBackends(), 0);
  holder.reset();  // session ends: lock released
  RunResult r = runner.Wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("waiting for the runner lock"), std::string::npos) << r.err;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
}

TEST_F(LockTest, LockNoneSkipsTheRunnerLock) {
  pqxx::connection holder(url_);
  pqxx::nontransaction h(holder);
  h.exec_params("SELECT pg_advisory_lock($1)", RunnerLockKey(url_));
  RunResult r = Migrate({"up", "--lock", "none", "--fence-token", "1", "--lock-wait", "100ms"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
}

TEST_F(LockTest, StaleFenceTokenAppliesNothing) {
  ASSERT_EQ(Migrate({"up", "--fence-token", "5"}).exit_code, 0);
  EXPECT_EQ(Scalar("SELECT token FROM schemagate_migrations_fence"), 5);
  EXPECT_EQ(Scalar("SELECT fence_token FROM schemagate_migrations WHERE version = 2"), 5);
  Write("0003_more.up.sql", "CREATE TABLE more (x int);\n");
  int code = -1;
  json r = MigrateJson({"up", "--fence-token", "3"}, &code);
  EXPECT_EQ(code, 5);
  EXPECT_EQ(r["error"]["reason"], "Fenced");
  EXPECT_FALSE(TableExists("more"));
  EXPECT_EQ(Migrate({"up", "--fence-token", "6"}).exit_code, 0);
  EXPECT_TRUE(TableExists("more"));
  EXPECT_EQ(Scalar("SELECT token FROM schemagate_migrations_fence"), 6);
}

// The in-transaction check: a run that read the state before a newer run
// recorded its token still cannot commit.
TEST_F(LockTest, FenceIsCheckedInsideEachMigrationTransaction) {
  auto conn = migrate::ConnInfo::Parse(url_);
  auto newer = migrate::PgStore::Connect(*conn, {});
  auto stale = migrate::PgStore::Connect(*conn, {});
  ASSERT_TRUE(newer.ok() && stale.ok());
  auto source = migrate::LoadSource(dir_.string());
  ASSERT_TRUE(source.ok()) << source.status();
  const migrate::SourceMigration* m = source->Find(2);
  migrate::ExecOptions newer_opts;
  newer_opts.fence_token = 9;
  migrate::ExecOptions stale_opts;
  stale_opts.fence_token = 8;
  // The newer run takes the fence and applies a migration of its own.
  Write("0003_x.up.sql", "CREATE TABLE x (y int);\n");
  auto source2 = migrate::LoadSource(dir_.string());
  EXPECT_EQ((*newer)->TakeFence(9, newer_opts).outcome, migrate::ExecOutcome::kDone);
  EXPECT_EQ((*newer)->Apply(*source2->Find(3), newer_opts).outcome, migrate::ExecOutcome::kDone);
  EXPECT_EQ((*stale)->Apply(*m, stale_opts).outcome, migrate::ExecOutcome::kFenced);
  EXPECT_EQ(Scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), 1);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 3}));
}

TEST_F(LockTest, StatementTimeoutFailsTheMigration) {
  Write("0002_alter.up.sql", "SELECT pg_sleep(10);\n");
  int code = -1;
  json r = MigrateJson({"up", "--statement-timeout", "200ms"}, &code);
  EXPECT_EQ(code, 3);
  EXPECT_EQ(r["error"]["sqlstate"], "57014");
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace sg::testing
