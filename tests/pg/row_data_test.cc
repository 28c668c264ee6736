// Row data never leaves the runner unless asked: PostgreSQL's DETAIL line of
// a constraint violation ("Failing row contains (...)", "Key (email)=(...)")
// holds the row's values, and the runner's message reaches the termination
// message, the SchemaMigration's status and Events, which every reader of
// the namespace can see. The JSON report and the termination log carry the
// SQLSTATE, the constraint, table and column (PostgreSQL's primary message
// names them), file and line; `--verbose-errors` prints DETAIL on stderr.
#include <fstream>
#include <sstream>

#include "pg/migrate_fixture.h"

namespace sg::testing {
namespace {

using nlohmann::json;

constexpr const char* kRowSecret = "tok_live_9f8e7d6c5b4a";

class RowDataTest : public MigrateTest {
 protected:
  std::string TerminationLog() {
    std::ifstream in(dir_ / "termination-log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

TEST_F(RowDataTest, ConstraintViolationsCarryNoRowValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"23502",
       "CREATE TABLE tok (id int, owner text NOT NULL, secret text);\n"
       "INSERT INTO tok VALUES (1, NULL, '" +
           std::string(kRowSecret) + "');\n"},
      {"23505", "CREATE TABLE u (email text UNIQUE);\nINSERT INTO u VALUES ('" +
                    std::string(kRowSecret) + "'), ('" + std::string(kRowSecret) + "');\n"},
      {"23514", "CREATE TABLE c (v text CHECK (length(v) < 5));\nINSERT INTO c VALUES ('" +
                    std::string(kRowSecret) + "');\n"},
  };
  int n = 0;
  for (const auto& [sqlstate, sql] : cases) {
    SCOPED_TRACE(sqlstate);
    url_ = SharedPgServer().CreateDatabase("r");
    std::string file = "000" + std::to_string(++n) + "_bad.up.sql";
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      std::filesystem::remove(e.path());
    }
    Write(file, sql);
    std::string log = (dir_ / "termination-log").string();
    RunResult r = Migrate({"up", "--output", "json", "--termination-log", log});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    json report = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << r.out;
    EXPECT_EQ(report["error"]["sqlstate"], sqlstate);
    EXPECT_EQ(report["error"]["file"], file);
    for (const auto& [where, text] : std::vector<std::pair<std::string, std::string>>{
             {"stdout", r.out}, {"stderr", r.err}, {"termination log", TerminationLog()}}) {
      // The statement itself is the user's own file (it may hold literals);
      // what must not appear is the server's echo of the row.
      json j = json::parse(text, nullptr, false);
      std::string without_statement = text;
      if (!j.is_discarded() && j.is_object() && j.contains("error")) {
        j["error"].erase("statement");
        without_statement = j.dump();
      }
      EXPECT_EQ(without_statement.find("Failing row"), std::string::npos) << where << ": " << text;
      EXPECT_EQ(without_statement.find("DETAIL"), std::string::npos) << where << ": " << text;
      if (where != "stderr") {
        EXPECT_EQ(without_statement.find(kRowSecret), std::string::npos) << where << ": " << text;
      }
    }
    // Asked for: DETAIL on stderr, for the person at the terminal.
    RunResult verbose = Migrate({"up", "--verbose-errors"});
    EXPECT_EQ(verbose.exit_code, 3);
    EXPECT_NE(verbose.err.find("DETAIL"), std::string::npos) << verbose.err;
  }
}

}  // namespace
}  // namespace sg::testing
