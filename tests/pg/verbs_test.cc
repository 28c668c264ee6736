// The runner's verbs against a real PostgreSQL server, through the real CLI.
#include <openssl/evp.h>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using nlohmann::json;

class VerbsTest : public MigrateTest {
 protected:
  void WriteThree() {
    Write("0001_users.up.sql", "CREATE TABLE users (id bigserial PRIMARY KEY, name text);\n");
    Write("0001_users.down.sql", "DROP TABLE users;\n");
    Write("0002_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n");
    Write("0002_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n");
    Write("0003_seed.up.sql", "INSERT INTO users (name) VALUES ('root');\n");
    Write("0003_seed.down.sql", "DELETE FROM users WHERE name = 'root';\n");
  }
};

std::string Sha256(const std::string& s) {
  unsigned char d[32];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    char b[3];
    snprintf(b, sizeof b, "%02x", d[i]);
    hex += b;
  }
  return hex;
}

TEST_F(VerbsTest, UpAppliesEverythingAndRecordsEachVersion) {
  WriteThree();
  int code = -1;
  json r = MigrateJson({"up", "--identity", "pod-a"}, &code);
  ASSERT_EQ(code, 0) << r.dump();
  EXPECT_EQ(r["applied"].size(), 3u);
  EXPECT_EQ(r["current_version"], 3);
  EXPECT_EQ(r["target_version"], 3);
  EXPECT_EQ(r["pending_count"], 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM users WHERE email IS NULL AND name = 'root'"), 1);
  auto row = Query(
      "SELECT checksum, applied_by, runner_version, execution_ms >= 0, applied_at <= now() "
      "FROM schemagate_migrations WHERE version = 2")[0];
  EXPECT_EQ(row[0].as<std::string>(), Sha256("ALTER TABLE users ADD COLUMN email text;\n"));
  EXPECT_EQ(row[1].as<std::string>(), "pod-a");
  EXPECT_FALSE(row[2].as<std::string>().empty());
  EXPECT_TRUE(row[3].as<bool>());
  EXPECT_TRUE(row[4].as<bool>());
}

TEST_F(VerbsTest, SecondUpHasNothingToDo) {
  WriteThree();
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(r["applied"].empty());
  EXPECT_EQ(r["pending_count"], 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM users"), 1);  // the seed ran once
}

TEST_F(VerbsTest, UpStopsAtTarget) {
  WriteThree();
  ASSERT_EQ(Migrate({"up", "--target", "2"}).exit_code, 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
  RunResult missing = Migrate({"up", "--target", "7"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("target version 7"), std::string::npos) << missing.err;
  RunResult below = Migrate({"up", "--target", "1"});
  EXPECT_EQ(below.exit_code, 2);
  EXPECT_NE(below.err.find("down --to 1"), std::string::npos) << below.err;
}

TEST_F(VerbsTest, DollarQuotesCommentsAndMultipleStatements) {
  Write("0001_complex.up.sql", R"SQL(
-- a comment; with a semicolon and a 'quote
CREATE TABLE t (id int PRIMARY KEY, note text); /* block; /* nested; */ comment */
INSERT INTO t VALUES (1, 'semi;colon'), (2, E'it\'s; escaped'), (3, $$dollar; quoted$$);
CREATE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $fn$
BEGIN
  -- semicolons inside the body;
  IF x > 0 THEN RETURN x + 1; END IF;
  RETURN 0;
END;
$fn$;
DO $$
BEGIN
  INSERT INTO t VALUES (4, 'from do; block');
END
$$;
CREATE FUNCTION add_atomic(a int, b int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT a + b;
END;
CREATE TABLE "semi;colon" (x int)
)SQL");
  RunResult r = Migrate({"up"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Scalar("SELECT count(*) FROM t"), 4);
  EXPECT_EQ(Query("SELECT note FROM t WHERE id = 2")[0][0].as<std::string>(), "it's; escaped");
  EXPECT_EQ(Scalar("SELECT bump(41)"), 42);
  EXPECT_EQ(Scalar("SELECT add_atomic(40, 2)"), 42);
  EXPECT_TRUE(TableExists("\"semi;colon\""));
}

TEST_F(VerbsTest, GolangMigrateBeginCommitWrapperRunsAsOneMigration) {
  Write("1_wrapped.up.sql", "BEGIN;\nCREATE TABLE a (x int);\nCREATE TABLE b (y int);\nCOMMIT;\n");
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  EXPECT_TRUE(TableExists("a"));
  EXPECT_TRUE(TableExists("b"));
  Write("2_bad_wrapped.up.sql", "BEGIN;\nCREATE TABLE c (x int);\nSELECT * FROM nope;\nCOMMIT;\n");
  EXPECT_EQ(Migrate({"up"}).exit_code, 3);
  EXPECT_FALSE(TableExists("c"));  // the whole file rolled back, wrapper or not
}

TEST_F(VerbsTest, FailedMigrationRollsBackCompletelyAndNamesFileLineAndSqlstate) {
  WriteThree();
  Write(
      "0004_broken.up.sql",
      "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\n\nSELECT * FROM missing_table;\n");
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 3);
  // The operator's pendingCount for image sources: 4 was planned, 1-3
  // applied, the failed one still pending.
  EXPECT_EQ(r["pending_count"], 1) << r.dump();
  EXPECT_EQ(r["target_version"], 4);
  EXPECT_EQ(r["error"]["reason"], "MigrationFailed");
  EXPECT_EQ(r["error"]["sqlstate"], "42P01");
  EXPECT_EQ(r["error"]["file"], "0004_broken.up.sql");
  EXPECT_EQ(r["error"]["line"], 4);
  EXPECT_EQ(r["error"]["version"], 4);
  EXPECT_NE(r["error"]["statement"].get<std::string>().find("missing_table"), std::string::npos);
  std::string msg = r["error"]["message"];
  EXPECT_NE(msg.find("0004_broken.up.sql:4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("42P01"), std::string::npos) << msg;
  // Exactly as before: 1-3 applied, no trace of 4, no dirty state.
  EXPECT_FALSE(TableExists("half"));
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM schemagate_migrations"), 3);
  // Fixing the file is all it takes.
  Write("0004_broken.up.sql", "CREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\n");
  EXPECT_EQ(Migrate({"up"}).exit_code, 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM half"), 1);
}

TEST_F(VerbsTest, SyntaxErrorNamesTheFile) {
  Write("0001_typo.up.sql", "CREAT TABLE oops (x int);\n");
  RunResult r = Migrate({"up"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("0001_typo.up.sql:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("42601"), std::string::npos) << r.err;
}

TEST_F(VerbsTest, DownByStepsAndToVersion) {
  WriteThree();
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  ASSERT_EQ(Migrate({"down", "--steps", "1"}).exit_code, 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM users"), 0);
  ASSERT_EQ(Migrate({"down", "--to", "1"}).exit_code, 0);
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                   "AND column_name = 'email'"),
            0);
  ASSERT_EQ(Migrate({"down", "--to", "0"}).exit_code, 0);
  EXPECT_TRUE(AppliedVersions().empty());
  EXPECT_FALSE(TableExists("users"));
  EXPECT_EQ(Migrate({"up"}).exit_code, 0);  // and forward again
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(VerbsTest, DownRefusesWithoutADownFile) {
  WriteThree();
  Write("0004_oneway.up.sql", "CREATE TABLE oneway (x int);\n");
  Write("0005_empty_down.up.sql", "CREATE TABLE e (x int);\n");
  Write("0005_empty_down.down.sql", "-- nothing yet\n");
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  RunResult empty = Migrate({"down", "--steps", "1"});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("0005_empty_down.down.sql has no SQL statements"), std::string::npos)
      << empty.err;
  Remove("0005_empty_down.down.sql");
  Write("0005_empty_down.down.sql", "DROP TABLE e;\n");
  RunResult missing = Migrate({"down", "--to", "3"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("0004_oneway.down.sql is missing"), std::string::npos) << missing.err;
  // Checked before anything ran: 5 is still applied.
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Migrate({"down", "--to", "3", "--steps", "1"}).exit_code, 2);  // exclusive flags
}

TEST_F(VerbsTest, StatusListsAppliedAndPending) {
  WriteThree();
  ASSERT_EQ(Migrate({"up", "--target", "1"}).exit_code, 0);
  int code = -1;
  json r = MigrateJson({"status"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(r["current_version"], 1);
  ASSERT_EQ(r["applied"].size(), 1u);
  EXPECT_EQ(r["applied"][0]["name"], "users");
  EXPECT_FALSE(r["applied"][0]["applied_at"].get<std::string>().empty());
  ASSERT_EQ(r["pending"].size(), 2u);
  EXPECT_EQ(r["pending"][0]["version"], 2);
  EXPECT_EQ(r["pending"][1]["checksum"].get<std::string>().size(), 64u);
  RunResult text = Migrate({"status"});
  EXPECT_NE(text.out.find("pending"), std::string::npos);
}

TEST_F(VerbsTest, StatusOnAFreshDatabaseCreatesNothing) {
  WriteThree();
  int code = -1;
  json r = MigrateJson({"status"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(r["pending"].size(), 3u);
  EXPECT_FALSE(TableExists("schemagate_migrations"));
}

TEST_F(VerbsTest, PlanProvablyWritesNothing) {
  WriteThree();
  auto relations = [&] {
    return Scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')");
  };
  int64_t before = relations();
  int code = -1;
  json r = MigrateJson({"plan"}, &code);
  EXPECT_EQ(code, 0);
  ASSERT_EQ(r["would_apply"].size(), 3u);
  EXPECT_EQ(r["would_apply"][0]["statements"], 1);
  EXPECT_EQ(relations(), before);
  EXPECT_FALSE(TableExists("schemagate_migrations"));
  // After a partial up, plan lists only the rest and still writes nothing.
  ASSERT_EQ(Migrate({"up", "--target", "1"}).exit_code, 0);
  int64_t rows = Scalar("SELECT count(*) FROM schemagate_migrations");
  r = MigrateJson({"plan"}, &code);
  EXPECT_EQ(r["would_apply"].size(), 2u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM schemagate_migrations"), rows);
  // And it runs read-only: a role that may only read can plan.
  std::string db = url_.substr(url_.rfind('/') + 1);
  db = db.substr(0, db.find('?'));
  std::string role = "reader_" + db;
  Query("CREATE ROLE " + role +
        " LOGIN PASSWORD 'reader-pw'; REVOKE CREATE ON SCHEMA public FROM "
        "PUBLIC; GRANT SELECT ON schemagate_migrations, schemagate_migrations_fence TO " +
        role);
  std::string reader_url = "postgresql://" + role +
                           ":reader-pw@127.0.0.1:" + std::to_string(SharedPgServer().port()) + "/" +
                           db;
  RunResult plan = RunCommand(
      {SCHEMAGATE_BIN, "migrate", "plan", "--dir", dir_.string(), "--database-url", reader_url});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.out.find("reader-pw"), std::string::npos);
  RunResult up = RunCommand(
      {SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", reader_url});
  EXPECT_NE(up.exit_code, 0);  // the same role cannot write: plan really wrote nothing
}

// Statements a runner with `identity` sent, from the server's statement log.
int StatementsSentBy(const std::string& identity) {
  std::ifstream log(SharedPgServer().log_path());
  std::string line, prefix = "schemagate " + identity + "|";
  int n = 0;
  while (std::getline(log, line)) {
    if (line.rfind(prefix, 0) == 0 && (line.find("statement: ") != std::string::npos ||
                                       line.find("execute ") != std::string::npos)) {
      ++n;
    }
  }
  return n;
}

TEST_F(VerbsTest, NothingPendingCostsConstantRoundTripsHoweverManyAreApplied) {
  std::string db = url_.substr(url_.rfind('/') + 1);
  db = db.substr(0, db.find('?'));
  Query("ALTER DATABASE " + db + " SET log_statement = 'all'");
  auto write_upto = [&](int n) {
    for (int v = 1; v <= n; ++v) {
      Write(std::to_string(v) + "_t.up.sql", "CREATE TABLE t" + std::to_string(v) + " (x int);\n");
    }
  };
  write_upto(10);
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  ASSERT_EQ(Migrate({"up", "--identity", "fast-10"}).exit_code, 0);
  ASSERT_EQ(Migrate({"status", "--identity", "status-10"}).exit_code, 0);
  write_upto(300);
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  ASSERT_EQ(Migrate({"up", "--identity", "fast-300"}).exit_code, 0);
  ASSERT_EQ(Migrate({"status", "--identity", "status-300"}).exit_code, 0);
  int up10 = StatementsSentBy("fast-10"), up300 = StatementsSentBy("fast-300");
  int st10 = StatementsSentBy("status-10"), st300 = StatementsSentBy("status-300");
  EXPECT_GT(up10, 0);
  EXPECT_EQ(up10, up300);
  EXPECT_LE(up10, 3);  // session setup + one read
  EXPECT_EQ(st10, st300);
  EXPECT_LE(st10, 3);
}

TEST_F(VerbsTest, BaselineAdoptsAnExistingDatabase) {
  WriteThree();
  Query("CREATE TABLE users (id bigserial PRIMARY KEY, name text, email text)");
  int code = -1;
  json r = MigrateJson({"baseline", "2"}, &code);
  ASSERT_EQ(code, 0) << r.dump();
  EXPECT_EQ(r["baselined"].size(), 2u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM schemagate_migrations WHERE baseline"), 2);
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);  // runs only 3 (1 would fail: users exists)
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM users"), 1);
  RunResult again = Migrate({"baseline", "3"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already records"), std::string::npos) << again.err;
}

TEST_F(VerbsTest, BaselineOfAnUnknownVersionIsAUsageError) {
  WriteThree();
  RunResult r = Migrate({"baseline", "9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no migration file with that version"), std::string::npos) << r.err;
  EXPECT_FALSE(TableExists("schemagate_migrations"));
}

TEST_F(VerbsTest, NewWritesAPairThatNeverCollides) {
  std::set<std::string> names;
  for (int i = 0; i < 3; ++i) {
    RunResult r = Migrate({"new", "Add Users!", "--output", "json"}, false);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out);
    names.insert(j["files"][0].get<std::string>());
    EXPECT_TRUE(std::filesystem::exists(j["files"][1].get<std::string>()));
    EXPECT_NE(j["files"][0].get<std::string>().find("_add_users.up.sql"), std::string::npos);
  }
  EXPECT_EQ(names.size(), 3u);  // same second, three distinct versions
  // After an existing far-future version, new files still sort last.
  Write("99999999999999_future.up.sql", "SELECT 1;\n");
  json j = json::parse(Migrate({"new", "after", "--output", "json"}, false).out);
  EXPECT_EQ(j["version"], int64_t{100000000000000});
}

TEST_F(VerbsTest, ValidateWithoutADatabaseChecksOnlyTheFiles) {
  WriteThree();
  RunResult ok = Migrate({"validate"}, false);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  Write("0004_bad name.sql", "SELECT 1;\n");
  RunResult bad = Migrate({"validate"}, false);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("0004_bad name.sql: malformed name"), std::string::npos) << bad.err;
}

TEST_F(VerbsTest, RepairWithNothingToRepairIsANoOp) {
  WriteThree();
  ASSERT_EQ(Migrate({"up"}).exit_code, 0);
  int code = -1;
  json r = MigrateJson({"repair"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(r["cleared"].empty());
  EXPECT_EQ(AppliedVersions().size(), 3u);
}

TEST_F(VerbsTest, CustomTrackingTableAndSchema) {
  WriteThree();
  ASSERT_EQ(Migrate({"up", "--schema", "ops", "--table", "history"}).exit_code, 0);
  EXPECT_TRUE(TableExists("ops.history"));
  EXPECT_TRUE(TableExists("ops.history_fence"));
  EXPECT_FALSE(TableExists("schemagate_migrations"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM ops.history"), 3);
}

}  // namespace
}  // namespace sg::testing
