// `-- schemagate:no-transaction` files: CREATE INDEX CONCURRENTLY runs, and a
// failure is recorded and blocks until `repair`.
#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using nlohmann::json;

class NoTransactionTest : public MigrateTest {
 protected:
  void SetUp() override {
    MigrateTest::SetUp();
    Write("0001_t.up.sql",
          "CREATE TABLE t (id int, email text);\n"
          "INSERT INTO t VALUES (1, 'a'), (2, 'a');\n");
  }
};

// Issue 11, item 14: without the directive a lone CONCURRENTLY failed at
// run time with 25001 and a message that never named the directive
// (golang-migrate sets keep such one-statement files). Alone in its file it
// now runs outside a transaction, exactly as with the directive; beside
// other statements it is refused before anything runs (the next test).
TEST_F(NoTransactionTest, CreateIndexConcurrentlyRunsWithOrWithoutTheDirective) {
  for (const std::string directive : {"-- schemagate:no-transaction\n", ""}) {
    SCOPED_TRACE(directive.empty() ? "without the directive" : "with the directive");
    if (TableExists("schemagate_migrations")) {
      Query("DROP INDEX IF EXISTS t_email");
      Query("DELETE FROM schemagate_migrations WHERE version = 2");
    }
    Write("0002_idx.up.sql", directive + "CREATE INDEX CONCURRENTLY t_email ON t (email);\n");
    RunResult r = Migrate({"up"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Scalar("SELECT count(*) FROM pg_index WHERE indexrelid = 't_email'::regclass "
                     "AND indisvalid"),
              1);
    EXPECT_EQ(Scalar("SELECT count(*) FROM schemagate_migrations WHERE version = 2 AND "
                     "no_transaction AND state = 'applied'"),
              1);
  }
}

TEST_F(NoTransactionTest, WithoutTheDirectiveBesideOtherStatementsItIsRefused) {
  Write("0002_idx.up.sql",
        "CREATE TABLE t2 (email text);\nCREATE INDEX CONCURRENTLY t2_email ON t2 (email);\n");
  RunResult r = Migrate({"up"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("0002_idx.up.sql:2: CREATE INDEX CONCURRENTLY cannot run inside a "
                       "transaction block"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("-- schemagate:no-transaction"), std::string::npos) << r.err;
  EXPECT_FALSE(TableExists("t2"));
}

TEST_F(NoTransactionTest, FailedConcurrentIndexNeedsRepairAndNamesTheInvalidIndex) {
  Write("0002_uniq.up.sql",
        "-- schemagate:no-transaction\n"
        "CREATE UNIQUE INDEX CONCURRENTLY t_email_uniq ON t (email);\n");
  Write("0003_after.up.sql", "CREATE TABLE after_it (x int);\n");
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 6);
  EXPECT_EQ(r["error"]["reason"], "NeedsRepair");
  EXPECT_EQ(r["error"]["sqlstate"], "23505");
  EXPECT_EQ(r["error"]["file"], "0002_uniq.up.sql");
  std::string msg = r["error"]["message"];
  EXPECT_NE(msg.find("t_email_uniq"), std::string::npos) << msg;
  EXPECT_NE(msg.find("INVALID"), std::string::npos) << msg;
  EXPECT_NE(msg.find("repair"), std::string::npos) << msg;
  EXPECT_FALSE(TableExists("after_it"));
  auto rec = Query(
      "SELECT state, sqlstate, failed_statement, statements_done FROM "
      "schemagate_migrations WHERE version = 2")[0];
  EXPECT_EQ(rec[0].as<std::string>(), "failed");
  EXPECT_EQ(rec[1].as<std::string>(), "23505");
  EXPECT_NE(rec[2].as<std::string>().find("CREATE UNIQUE INDEX CONCURRENTLY"), std::string::npos);
  EXPECT_EQ(rec[3].as<int>(), 0);

  // Refuses to continue, with the same story, until repaired.
  json again = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 6);
  EXPECT_NE(again["error"]["message"].get<std::string>().find("t_email_uniq"), std::string::npos);
  EXPECT_EQ(Migrate({"status"}).exit_code, 6);

  // A human fixes the data and drops the invalid index, then repairs.
  Query("DROP INDEX CONCURRENTLY t_email_uniq");
  Query("UPDATE t SET email = 'b' WHERE id = 2");
  json repaired = MigrateJson({"repair"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(repaired["cleared"], json::array({2}));
  RunResult up = Migrate({"up"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(NoTransactionTest, PartialFailureRecordsHowFarItGot) {
  Write("0002_two.up.sql",
        "-- schemagate:no-transaction\n"
        "CREATE TABLE first_done (x int);\n"
        "SELECT * FROM not_there;\n");
  int code = -1;
  json r = MigrateJson({"up"}, &code);
  EXPECT_EQ(code, 6);
  EXPECT_EQ(r["error"]["sqlstate"], "42P01");
  EXPECT_TRUE(TableExists("first_done"));  // outside a transaction: it stays
  EXPECT_EQ(Scalar("SELECT statements_done FROM schemagate_migrations WHERE version = 2"), 1);
}

}  // namespace
}  // namespace sg::testing
