// The runner on hostile and real-world files, against a real server: what
// the operator's Job always asks for (`--output json --termination-log`)
// must produce a report for any bytes, never a crash that leaves the
// termination message empty and the controller blind.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using nlohmann::json;

class HostileFilesTest : public MigrateTest {
 protected:
  // Runs `up` as the Job does; checks stdout and the termination log are
  // each one strict (UTF-8) JSON document; returns the report.
  json UpAsTheJobDoes(int want_exit) {
    std::string log = (dir_ / "termination-log").string();
    RunResult r = Migrate({"up", "--output", "json", "--termination-log", log});
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    std::ifstream in(log);
    std::stringstream tl;
    tl << in.rdbuf();
    EXPECT_FALSE(tl.str().empty()) << "no termination message";
    EXPECT_LE(tl.str().size(), 4096u);
    EXPECT_NO_THROW(json::parse(tl.str())) << tl.str();
    json report;
    EXPECT_NO_THROW(report = json::parse(r.out)) << r.out;
    return report;
  }
};

// Issue 11, item 1: non-UTF-8 bytes in the SQL (echoed by the server's
// message) and in a file name crashed the runner with SIGABRT (exit 134).
TEST_F(HostileFilesTest, NonUtf8BytesGiveAReportNotACrash) {
  Write("0001_u8.up.sql", "CREATE TABLE u8 (s text);\nINSERT INTO u8 VALUES ('\xff\xfe');\n");
  json report = UpAsTheJobDoes(3);
  EXPECT_EQ(report["error"]["file"], "0001_u8.up.sql");
  EXPECT_FALSE(TableExists("u8"));  // rolled back, as the report says

  std::filesystem::remove(dir_ / "0001_u8.up.sql");
  Write("0001_caf\xe9.up.sql", "CREATE TABLE latin1 (id int);\n");
  std::string log = (dir_ / "termination-log").string();
  RunResult r = Migrate({"up", "--output", "json", "--termination-log", log});
  EXPECT_NE(r.exit_code, 134) << r.err;
  EXPECT_NO_THROW(json::parse(r.out)) << r.out;
}

// Issue 11, item 2: a termination message cut inside a multi-byte character
// crashed the runner on valid UTF-8.
TEST_F(HostileFilesTest, TerminationMessageIsCutOnCharacterBoundaries) {
  std::string e3000;
  for (int i = 0; i < 3000; ++i) e3000 += "\xc3\xa9";
  Write("0001_long.up.sql",
        "CREATE TABLE t (s text, n int);\nINSERT INTO t VALUES ('" + e3000 + "', 1/0);\n");
  json report = UpAsTheJobDoes(3);
  EXPECT_EQ(report["error"]["sqlstate"], "22012");
}

// Issue 11, item 3: the ROLLBACK wrapper was stripped like a COMMIT one and
// the DROP committed. The check is the server's catalogue.
TEST_F(HostileFilesTest, ABeginRollbackFileCommitsNothing) {
  Query("CREATE TABLE important (id int)");
  Write("0001_oops.up.sql", "BEGIN;\nDROP TABLE important;\nROLLBACK;\n");
  RunResult r = Migrate({"up"});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("0001_oops.up.sql:3"), std::string::npos) << r.err;
  EXPECT_TRUE(TableExists("important"));
}

// Issue 11, item 4: `begin` as a column name hid the COMMIT after it: the
// old runner committed `periods` without a tracking row and said "rolled
// back, the database is as before it".
TEST_F(HostileFilesTest, AColumnNamedBeginHidesNoCommit) {
  Write("0001_periods.up.sql",
        "CREATE TABLE periods (id int, begin date);\nCOMMIT;\nCREATE TABLE half (id int);\n"
        "SELECT 1/0;\n");
  RunResult r = Migrate({"up"});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("0001_periods.up.sql:2"), std::string::npos) << r.err;
  EXPECT_FALSE(TableExists("periods"));
  EXPECT_FALSE(TableExists("half"));
  RunResult v = Migrate({"validate"}, /*with_url=*/false);
  EXPECT_NE(v.exit_code, 0) << v.out << v.err;
}

// Issue 11, item 7: a least-privilege role (USAGE and CREATE on its schema,
// full rights on the existing tracking tables, no CREATE on the database)
// could not run `up`: the runner always issued CREATE SCHEMA IF NOT EXISTS,
// which needs CREATE on the database even when the schema exists.
TEST_F(HostileFilesTest, ALeastPrivilegeRoleCanMigrate) {
  Query("CREATE SCHEMA app");
  Write("0001_a.up.sql", "CREATE TABLE app.a (id int);\n");
  ASSERT_EQ(Migrate({"up", "--schema", "app"}).exit_code, 0);
  const std::string role =
      "lp_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand() % 100000);
  Query("CREATE ROLE " + role + " LOGIN PASSWORD 'lp-pass'");
  Query("GRANT USAGE, CREATE ON SCHEMA app TO " + role);
  Query("GRANT ALL ON ALL TABLES IN SCHEMA app TO " + role);
  std::string db = url_.substr(url_.rfind('/') + 1);
  db = db.substr(0, db.find('?'));
  Query("REVOKE CREATE ON DATABASE " + db + " FROM PUBLIC");
  Write("0002_b.up.sql", "CREATE TABLE app.b (id int);\n");
  const std::string url = "postgresql://" + role +
                          ":lp-pass@127.0.0.1:" + std::to_string(SharedPgServer().port()) + "/" +
                          db;
  RunResult r = Migrate({"up", "--schema", "app", "--database-url", url}, /*with_url=*/false);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(TableExists("app.b"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM app.schemagate_migrations WHERE state = 'applied'"), 2);
}

// Issue 11, item 8: the old runner said "applied" for a no-transaction file
// that left a transaction open; the server rolled it back on disconnect.
TEST_F(HostileFilesTest, ANoTransactionFileLeavingATransactionOpenIsRefused) {
  Write("0001_open.up.sql", "-- schemagate:no-transaction\nBEGIN;\nCREATE TABLE u (id int);\n");
  RunResult r = Migrate({"up"});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("0001_open.up.sql:2"), std::string::npos) << r.err;
  // What the database says: nothing claims to be applied that is not there.
  if (TableExists("schemagate_migrations")) {
    EXPECT_EQ(Scalar("SELECT count(*) FROM schemagate_migrations WHERE state = 'applied'"), 0);
  }
}

// Issue 11, item 11: with <table>_fence dropped, status, plan and validate
// took a tracked database for an untracked one (version 0, all pending).
// Now the tracking rows speak, and the next writing verb rebuilds the fence
// from the tokens they were written under.
TEST_F(HostileFilesTest, AMissingFenceTableIsNotAnUntrackedDatabase) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
  Write("0002_b.up.sql", "CREATE TABLE b (id int);\n");
  ASSERT_EQ(Migrate({"up", "--fence-token", "41"}).exit_code, 0);
  Query("DROP TABLE schemagate_migrations_fence");
  int code = -1;
  json status = MigrateJson({"status"}, &code);
  EXPECT_EQ(status["current_version"], 2) << status.dump();
  json plan = MigrateJson({"plan"}, &code);
  EXPECT_EQ(plan["would_apply"].size(), 0u) << plan.dump();
  Write("0003_c.up.sql", "CREATE TABLE c (id int);\n");
  // A runner with an older token than the lost fence held stays fenced off.
  RunResult stale = Migrate({"up", "--fence-token", "40"});
  EXPECT_NE(stale.exit_code, 0) << stale.out << stale.err;
  EXPECT_FALSE(TableExists("c"));
  ASSERT_EQ(Migrate({"up", "--fence-token", "42"}).exit_code, 0);
  EXPECT_TRUE(TableExists("c"));
  EXPECT_EQ(Scalar("SELECT token FROM schemagate_migrations_fence"), 42);
}

// Issue 11, item 13: `down --to 0` leaves version 0 applied (as its words
// say); `down --all` reverts it too. The check is the tracking table.
TEST_F(HostileFilesTest, DownAllRevertsVersionZero) {
  Write("0000_init.up.sql", "CREATE TABLE init (id int);\n");
  Write("0000_init.down.sql", "DROP TABLE init;\n");
  Write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
  Write("0001_a.down.sql", "DROP TABLE a;\n");
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  ASSERT_EQ(Migrate({"down", "--to", "0"}).exit_code, 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{0}));
  EXPECT_EQ(Migrate({"down", "--all", "--to", "0"}).exit_code, 2);
  RunResult r = Migrate({"down", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(AppliedVersions().empty());
  EXPECT_FALSE(TableExists("init"));
}

// Issue 11, item 14: the shapes golang-migrate applies unchanged: a
// comment-only version, an empty wrapper, a down named differently. The
// check is the tracking table and the catalogue.
TEST_F(HostileFilesTest, GolangMigrateShapesApplyUnchanged) {
  Write("0001_note.up.sql", "-- reserved\n");
  Write("0002_wrap.up.sql", "begin;\n-- nothing here any more\ncommit;\n");
  Write("0003_users.up.sql", "BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n");
  Write("0003_drop_users.down.sql", "DROP TABLE users;\n");
  int code = -1;
  json plan = MigrateJson({"plan"}, &code);
  ASSERT_EQ(code, 0) << plan.dump();
  ASSERT_EQ(plan["would_apply"].size(), 3u);
  EXPECT_EQ(plan["would_apply"][0]["statements"], 0);
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(TableExists("users"));
  ASSERT_EQ(Migrate({"down", "--steps", "1"}).exit_code, 0);
  EXPECT_FALSE(TableExists("users"));
}

}  // namespace
}  // namespace sg::testing
