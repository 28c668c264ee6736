// The exclusion guarantee on the runner's side, proved against a real
// PostgreSQL server with the real binary: fencing tokens are always on in a
// Job (0 is refused), a newer runner never re-applies what a stale one
// committed and a stale runner commits nothing once the newer one took the
// fence, for transactional and no-transaction files alike; and SIGTERM stops
// a runner within 2 s with nothing committed, also as PID 1. Every check is
// made on the database's own records (an audit table each migration writes,
// pg_stat_activity), not on what the runner says.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

class FenceTest : public MigrateTest {
 protected:
  void SetUp() override {
    MigrateTest::SetUp();
    // Every migration logs itself in an audit table; a second run of any
    // version shows up as a second row (and CREATE TABLE fails).
    Write("0001_log.up.sql", "CREATE TABLE audit (version int, token text);\n");
  }
  // v2 stays in flight until runner B waits for the fence row (a lock wait
  // of B's session, polled from inside v2; at most 30 s), then 1 s more, so
  // the overlap never depends on how fast B starts; v3 is quick.
  void WriteSlowTwoAndThree(bool no_transaction) {
    std::string head = no_transaction ? "-- schemagate:no-transaction\n" : "";
    Write("0002_slow.up.sql",
          head +
              "CREATE TABLE t2 (x int);\nINSERT INTO audit VALUES (2, current_setting("
              "'application_name'));\n"
              "DO $$ BEGIN FOR i IN 1..300 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN "
              "EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = "
              "'schemagate newer-b' AND wait_event_type = 'Lock'); PERFORM pg_sleep(0.1); END "
              "LOOP; PERFORM pg_sleep(1); END $$;\n");
    Write("0003_quick.up.sql",
          "CREATE TABLE t3 (x int);\nINSERT INTO audit VALUES (3, "
          "current_setting('application_name'));\n");
  }
  std::vector<std::string> Runner(const std::string& token, const std::string& identity) {
    return {SCHEMAGATE_BIN, "migrate",  "up",   "--dir",         dir_.string(), "--database-url",
            url_,           "--lock",   "none", "--fence-token", token,         "--identity",
            identity,       "--output", "json"};
  }
  // Waits until a backend of `application` runs a statement containing `text`.
  bool WaitForStatement(const std::string& text, Clock::duration limit = 30s) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (Scalar("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE " +
                 Query("SELECT quote_literal('%" + text + "%')")[0][0].as<std::string>() +
                 " AND application_name LIKE 'schemagate%'") > 0) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  int64_t Backends() {
    return Scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'schemagate%'");
  }
  int64_t AuditRows(int version) {
    return Scalar("SELECT count(*) FROM audit WHERE version = " + std::to_string(version));
  }
};

// Finding 1: token 0 meant "no fencing". It is now a usage error, and so is
// --lock=none without a token (nothing would keep two runs apart).
TEST_F(FenceTest, TokenZeroOrMissingNeverDisablesFencing) {
  ASSERT_EQ(Migrate({"up", "--lock=none", "--fence-token", "5"}).exit_code, 0);
  Write("0002_more.up.sql", "CREATE TABLE more (x int);\n");
  EXPECT_EQ(Migrate({"up", "--lock=none", "--fence-token", "3"}).exit_code, 5);
  RunResult zero = Migrate({"up", "--lock=none", "--fence-token", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero.err;
  EXPECT_NE(zero.err.find("--fence-token"), std::string::npos) << zero.err;
  RunResult missing = Migrate({"up", "--lock=none"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--fence-token"), std::string::npos) << missing.err;
  EXPECT_FALSE(TableExists("more"));
  EXPECT_EQ(Scalar("SELECT token FROM schemagate_migrations_fence"), 5);
}

// Finding 2: runner A (token 1) is inside v2 when runner B (token 2) starts
// (v2 transactional, then no-transaction). B waits for A's transaction, takes the fence, re-reads,
// and applies only v3; A commits v2 (before B took the fence) and nothing
// after it. (A may also finish v3 before B takes the fence: see below.)
TEST_F(FenceTest, OverlappingRunnersNewerNeverFailsStaleCommitsNothingAfter) {
  for (bool no_tx : {false, true}) {
    SCOPED_TRACE(no_tx ? "no-transaction v2" : "transactional v2");
    if (no_tx) url_ = SharedPgServer().CreateDatabase("f");
    WriteSlowTwoAndThree(no_tx);
    Process a(Runner("1", "stale-a"));
    ASSERT_TRUE(WaitForStatement("pg_stat_clear_snapshot")) << "A never reached v2";
    Process b(Runner("2", "newer-b"));
    RunResult rb = b.Wait();
    RunResult ra = a.Wait();
    EXPECT_EQ(rb.exit_code, 0) << "B: " << rb.out << rb.err;
    // A is fenced out at v3, unless its v3 got the fence row first: a row
    // lock is granted to whoever asks first once it is free (PostgreSQL
    // queues only waiters that found it taken), so A's next transaction can
    // overtake B waking up. Then A finishes before B has taken the fence,
    // which the guarantee allows; B must still find everything applied.
    EXPECT_TRUE(ra.exit_code == 5 || ra.exit_code == 0) << "A: " << ra.out << ra.err;
    std::printf("overlap (%s): A exit %d (%s)\n", no_tx ? "no-transaction" : "transactional",
                ra.exit_code, ra.exit_code == 5 ? "fenced out at v3" : "finished first");
    // The database's own record: each version ran exactly once, and A's
    // versions all come before B's (A commits nothing after B's fence).
    for (int v : {2, 3}) EXPECT_EQ(AuditRows(v), 1) << "version " << v;
    EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(Scalar("SELECT token FROM schemagate_migrations_fence"), 2);
    EXPECT_EQ(Scalar("SELECT count(*) FROM schemagate_migrations a, schemagate_migrations b "
                     "WHERE a.fence_token = 1 AND b.fence_token = 2 AND a.version > b.version"),
              0);
    std::string v3_by = ra.exit_code == 5 ? "schemagate newer-b" : "schemagate stale-a";
    EXPECT_EQ(Query("SELECT token FROM audit WHERE version = 3")[0][0].as<std::string>(), v3_by);
    EXPECT_EQ(Scalar("SELECT fence_token FROM schemagate_migrations WHERE version = 3"),
              ra.exit_code == 5 ? 2 : 1);
  }
}

// A no-transaction CREATE INDEX CONCURRENTLY under the fence completes: the
// fence is held by an idle transaction that CIC does not wait for.
TEST_F(FenceTest, FencedConcurrentIndexDoesNotDeadlock) {
  Write("0002_idx.up.sql",
        "-- schemagate:no-transaction\nCREATE INDEX CONCURRENTLY audit_v ON audit (version);\n");
  auto start = Clock::now();
  RunResult r = Migrate({"up", "--lock=none", "--fence-token", "4"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_LT(Clock::now() - start, 20s);
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_index WHERE indexrelid = 'audit_v'::regclass AND "
                   "indisvalid"),
            1);
}

// Finding 3: SIGTERM as PID 1 of its own PID namespace (as in a container):
// the statement in flight is cancelled, the migration rolled back, exit 8
// within 2 s, and its backends are gone.
TEST_F(FenceTest, SigtermAsPidOneStopsWithinTwoSecondsCommittingNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "unshare --pid needs root";
  Write("0002_long.up.sql",
        "CREATE TABLE long_one (x int);\nINSERT INTO audit VALUES (2, 'long');\n"
        "SELECT pg_sleep(10);\n");
  std::vector<std::string> argv = {"unshare", "--pid", "--fork", "--kill-child"};
  for (const auto& a : Runner("3", "pid-one")) argv.push_back(a);
  Process ns(argv);
  ASSERT_TRUE(WaitForStatement("pg_sleep(10)")) << "runner never reached the long statement";
  // The runner is unshare's only child, and PID 1 inside.
  pid_t runner = -1;
  std::ifstream children("/proc/" + std::to_string(ns.pid()) + "/task/" + std::to_string(ns.pid()) +
                         "/children");
  children >> runner;
  ASSERT_GT(runner, 0);
  std::string nspid;
  std::ifstream status("/proc/" + std::to_string(runner) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("NSpid:", 0) == 0) nspid = line;
  }
  ASSERT_NE(nspid.find("\t1"), std::string::npos) << "not PID 1 in its namespace: " << nspid;
  auto sent = Clock::now();
  ASSERT_EQ(kill(runner, SIGTERM), 0);
  RunResult r = ns.Wait();
  auto took = Clock::now() - sent;
  EXPECT_LT(took, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
  json report = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << r.out;
  EXPECT_EQ(report["error"]["reason"], "Interrupted");
  EXPECT_FALSE(TableExists("long_one"));
  EXPECT_EQ(AuditRows(2), 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1}));
  auto deadline = Clock::now() + 2s;
  while (Backends() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(Backends(), 0) << "a backend of the runner outlived it";
}

// SIGINT while waiting for the runner lock: exits promptly, nothing done.
TEST_F(FenceTest, SigintWhileWaitingForTheLockExitsPromptly) {
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  Write("0002_x.up.sql", "SELECT pg_sleep(5);\n");
  Process first({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_});
  ASSERT_TRUE(WaitForStatement("pg_sleep(5)"));
  Process second({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", url_,
                  "--output", "json"});
  // Both runners' lock sessions are open: the second one is polling.
  auto polling = Clock::now() + 10s;
  while (Scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                "'schemagate lock%'") < 2 &&
         Clock::now() < polling) {
    std::this_thread::sleep_for(20ms);
  }
  auto sent = Clock::now();
  second.Kill(SIGINT);
  RunResult r = second.Wait();
  EXPECT_LT(Clock::now() - sent, 2s);
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
  first.Kill(SIGTERM);
  first.Wait();
}

}  // namespace
}  // namespace sg::testing
