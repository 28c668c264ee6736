// Bad inputs get clear errors naming the file, flag or URL, and change nothing.
#include <fstream>
#include <sstream>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

class BadInputTest : public MigrateTest {
 protected:
  void ExpectUsageError(const std::vector<std::string>& args, const std::string& needle) {
    RunResult r = Migrate(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos)
        << "missing \"" << needle << "\" in: " << r.err;
    EXPECT_FALSE(TableExists("schemagate_migrations"));
  }
};

TEST_F(BadInputTest, MalformedNames) {
  Write("0001_ok.up.sql", "SELECT 1;");
  Write("abc_nodigits.up.sql", "SELECT 1;");
  Write("0002.up.sql", "SELECT 1;");
  Write("0003_wrong.sideways.sql", "SELECT 1;");
  Write("README.md", "not a migration");  // ignored
  RunResult r = Migrate({"up"});
  EXPECT_EQ(r.exit_code, 2);
  for (const char* f : {"abc_nodigits.up.sql", "0002.up.sql", "0003_wrong.sideways.sql"}) {
    EXPECT_NE(r.err.find(std::string(f) + ": malformed name"), std::string::npos) << r.err;
  }
  EXPECT_EQ(r.err.find("README.md"), std::string::npos);
  EXPECT_FALSE(TableExists("schemagate_migrations"));
}

TEST_F(BadInputTest, DuplicateVersions) {
  Write("0001_a.up.sql", "SELECT 1;");
  Write("1_b.up.sql", "SELECT 1;");
  ExpectUsageError({"up"}, "duplicate version 1");
}

TEST_F(BadInputTest, EmptyFile) {
  Write("0001_empty.up.sql", "  \n\t\n");
  ExpectUsageError({"up"}, "0001_empty.up.sql: empty");
}

TEST_F(BadInputTest, DownWithoutUp) {
  Write("0001_orphan.down.sql", "SELECT 1;");
  ExpectUsageError({"up"}, "0001_orphan.down.sql: down migration without an up file");
}

TEST_F(BadInputTest, UnterminatedDollarQuoteNamesLine) {
  Write("0001_open.up.sql", "SELECT 1;\nDO $body$ BEGIN PERFORM 1; END\n");
  ExpectUsageError({"up"},
                   "0001_open.up.sql: unterminated dollar-quoted string $body$ opened at line 2");
}

TEST_F(BadInputTest, TransactionControlInsideATransactionalFile) {
  Write("0001_commit.up.sql", "CREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE b (x int);\n");
  ExpectUsageError({"up"}, "0001_commit.up.sql:2: transaction control statement");
}

TEST_F(BadInputTest, MissingDirectory) {
  RunResult r = RunCommand({SCHEMAGATE_BIN, "migrate", "up", "--dir", "/nonexistent/migrations",
                            "--database-url", url_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/migrations does not exist"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, UnreadableDirectory) {
  if (geteuid() == 0) {
    // root reads everything; a file in place of the directory is unreadable as one.
    Write("notadir", "x");
    RunResult r = RunCommand({SCHEMAGATE_BIN, "migrate", "up", "--dir", (dir_ / "notadir").string(),
                              "--database-url", url_});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("notadir: cannot read"), std::string::npos) << r.err;
    return;
  }
  std::filesystem::permissions(dir_, std::filesystem::perms::none);
  RunResult r = Migrate({"up"});
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, InvalidUrlNeverEchoesThePassword) {
  Write("0001_a.up.sql", "SELECT 1;");
  RunResult r =
      RunCommand({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url",
                  "postgresql://me:topsecret@127.0.0.1:notaport/db?bogus_option=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("invalid database URL"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("topsecret"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("topsecret"), std::string::npos) << r.out;
}

TEST_F(BadInputTest, MissingUrl) {
  Write("0001_a.up.sql", "SELECT 1;");
  RunResult r =
      RunCommand({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string()}, {{"DATABASE_URL", ""}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--database-url or set DATABASE_URL"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, UrlFromEnvironment) {
  Write("0001_a.up.sql", "CREATE TABLE from_env (x int);");
  RunResult r = RunCommand({SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string()},
                           {{"DATABASE_URL", url_}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(TableExists("from_env"));
}

TEST_F(BadInputTest, BadDurationNamesTheFlag) {
  Write("0001_a.up.sql", "SELECT 1;");
  ExpectUsageError({"up", "--lock-timeout", "5 seconds"},
                   "--lock-timeout: invalid duration \"5 seconds\"");
}

TEST_F(BadInputTest, UnknownFlagIsAUsageError) {
  RunResult r = Migrate({"up", "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, UnreachableServerIsExitSeven) {
  Write("0001_a.up.sql", "SELECT 1;");
  // A port nobody listens on (the shared server's port + 1 is free or not PostgreSQL).
  int code = -1;
  RunResult r = RunCommand(
      {SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url",
       "postgresql://postgres:topsecret@127.0.0.1:1/db?connect_timeout=5", "-o", "json"});
  code = r.exit_code;
  EXPECT_EQ(code, 7) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"]["reason"], "ConnectionFailed");
  EXPECT_NE(
      j["error"]["message"].get<std::string>().find("cannot connect to postgres@127.0.0.1:1/db"),
      std::string::npos);
  EXPECT_EQ(r.out.find("topsecret"), std::string::npos);
}

TEST_F(BadInputTest, WrongPasswordIsExitSevenAndNeverPrinted) {
  Write("0001_a.up.sql", "SELECT 1;");
  std::string wrong =
      "postgresql://postgres:WrongPassw0rd@127.0.0.1:" + std::to_string(SharedPgServer().port()) +
      "/postgres";
  RunResult r = RunCommand(
      {SCHEMAGATE_BIN, "migrate", "up", "--dir", dir_.string(), "--database-url", wrong});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("password authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("WrongPassw0rd"), std::string::npos) << r.err;
}

// Issue 11, item 6: a negative --target was the internal "no target" and
// applied everything with exit 0; plan ignored it. Now a usage error that
// names the flag, and nothing is applied.
TEST_F(BadInputTest, NegativeVersionsAreRefused) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);");
  Write("0002_b.up.sql", "CREATE TABLE b (id int);");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"up", "--target", "-5"},
                                             {"plan", "--target", "-1"},
                                             {"down", "--to", "-1"},
                                             {"down", "--steps", "0"},
                                             {"baseline", "-3"},
                                             {"up", "--target", "1000000000000000000"}}) {
    RunResult r = Migrate(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << r.out << r.err;
    EXPECT_FALSE(TableExists("a")) << args[0] << " " << args[1];
  }
  EXPECT_FALSE(TableExists("schemagate_migrations"));
}

// Issue 11, item 12: a --table of 58+ bytes made <table>_fence longer than
// PostgreSQL's 63 and truncated it in silence (two names, one table).
TEST_F(BadInputTest, TrackingTableNamesThatWouldBeTruncatedAreRefused) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);");
  ExpectUsageError({"up", "--table", std::string(58, 't')}, "--table is 58 bytes; at most 57");
  ExpectUsageError({"up", "--schema", std::string(64, 's')}, "--schema is 64 bytes; at most 63");
  EXPECT_FALSE(TableExists("a"));
  EXPECT_EQ(Migrate({"up", "--table", std::string(57, 't')}).exit_code, 0);
  EXPECT_TRUE(TableExists(std::string(57, 't') + "_fence"));
}

// Issue 11, item 13 (part): what the operator's Job relies on for a usage
// error, a repair with nothing to repair, a status that never connected.
TEST_F(BadInputTest, UsageErrorsStillGiveTheirJsonAndTerminationLog) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);");
  const std::string log = (dir_ / "termination-log").string();
  RunResult r = Migrate({"up", "--output", "json", "--termination-log", log, "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["exit_code"], 2);
  EXPECT_EQ(doc["command"], "up");
  std::ifstream in(log);
  std::stringstream tl;
  tl << in.rdbuf();
  EXPECT_FALSE(nlohmann::json::parse(tl.str(), nullptr, false).is_discarded()) << tl.str();
  EXPECT_FALSE(TableExists("a"));
}

TEST_F(BadInputTest, RepairOnAnUntrackedDatabaseHasNothingToDo) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);");
  RunResult r = Migrate({"repair"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing to repair"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, AStatusThatCannotConnectClaimsNoVersion) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);");
  RunResult r = Migrate({"status", "--database-url", "postgresql://nobody@127.0.0.1:1/x"},
                        /*with_url=*/false);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ((r.out + r.err).find("current version: 0"), std::string::npos) << r.out << r.err;
}

TEST_F(BadInputTest, AnUnwritableTerminationLogIsSaid) {
  Write("0001_a.up.sql", "CREATE TABLE a (id int);");
  RunResult r = Migrate({"up", "--termination-log", "/nonexistent-dir/termination-log"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("cannot write the termination log"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sg::testing
