// golang-migrate sets run unchanged: each set of the corpus under
// tests/corpus/golang-migrate goes up and then all the way down once with the
// real golang-migrate (its library, tests/peers/golang-migrate) and once with
// `schemagate migrate`, each on a fresh database; the databases must then be
// the same: pg_dump's schema (tables, functions, privileges...) and the
// number of rows in every table, the tools' own tracking tables left out,
// after `up` and again after `down`. (Rows are counted, not compared: seed
// rows hold now() and random salts.)
//
// The two runs are one after the other, not side by side: a set may create
// roles, which are shared by the whole server.
#include <gtest/gtest.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "support/pg_server.h"
#include "support/subprocess.h"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(SG_SOURCE_DIR) / "tests/corpus/golang-migrate";

struct Tool {
  const char* name;
  std::vector<std::string> up, down;
};

// The schema as pg_dump prints it, minus what differs between two copies of
// one schema: comments (they name the dump's time and version) and the
// random key of psql's \restrict guard; then each table's row count.
std::string Dump(const std::string& url) {
  PgServer& pg = SharedPgServer();
  RunResult r = RunCommand({pg.bindir() + "/pg_dump", "--schema-only", "--no-owner",
                            "--exclude-table=schema_migrations", "--exclude-table=schemagate_*",
                            "--dbname=" + url});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.starts_with("--") || line.starts_with("\\restrict") ||
        line.starts_with("\\unrestrict")) {
      continue;
    }
    out += line + "\n";
  }
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  for (const auto& row : tx.exec(
           "SELECT format('%I.%I', n.nspname, c.relname),"
           "       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',"
           "        n.nspname, c.relname), false, true, '')))[1]::text"
           "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
           " WHERE c.relkind IN ('r', 'p', 'm') AND c.relispartition = false"
           "   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
           "   AND c.relname <> 'schema_migrations' AND c.relname NOT LIKE 'schemagate%'"
           " ORDER BY 1")) {
    out += "rows " + row[0].as<std::string>() + ": " + row[1].as<std::string>() + "\n";
  }
  return out;
}

// A line-by-line account of how two dumps differ (the first few lines).
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string l, r;
  for (int n = 1;; ++n) {
    bool more_l = static_cast<bool>(std::getline(x, l));
    bool more_r = static_cast<bool>(std::getline(y, r));
    if (!more_l && !more_r) return "(equal)";
    if (!more_l || !more_r || l != r) {
      return "line " + std::to_string(n) + ":\n  golang-migrate: " + (more_l ? l : "(end)") +
             "\n  schemagate:     " + (more_r ? r : "(end)");
    }
  }
}

class PeerParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerParityTest, SameSchemaAsGolangMigrate) {
  const fs::path set = kCorpus / GetParam();
  PgServer& pg = SharedPgServer();
  std::string after_up[2], after_down[2];
  for (int tool = 0; tool < 2; ++tool) {
    const std::string url = pg.CreateDatabase("parity");
    auto gm = [&](const char* verb) {
      return RunCommand({GOLANG_MIGRATE_BIN, "-path", set.string(), "-database", url, verb});
    };
    auto sgm = [&](std::vector<std::string> verb) {
      std::vector<std::string> argv = {SCHEMAGATE_BIN, "migrate"};
      argv.insert(argv.end(), verb.begin(), verb.end());
      argv.insert(argv.end(), {"--dir", set.string(), "--database-url", url});
      return RunCommand(argv);
    };
    RunResult up = tool == 0 ? gm("up") : sgm({"up"});
    ASSERT_EQ(up.exit_code, 0) << (tool ? "schemagate" : "golang-migrate") << " up on " << set
                               << ":\n"
                               << up.out << up.err;
    after_up[tool] = Dump(url);
    RunResult down = tool == 0 ? gm("down") : sgm({"down", "--all"});
    ASSERT_EQ(down.exit_code, 0) << (tool ? "schemagate" : "golang-migrate") << " down on " << set
                                 << ":\n"
                                 << down.out << down.err;
    after_down[tool] = Dump(url);
  }
  EXPECT_GT(after_up[0].size(), after_down[0].size()) << "the set created nothing";
  EXPECT_EQ(after_up[0], after_up[1]) << "after up, " << FirstDifference(after_up[0], after_up[1]);
  EXPECT_EQ(after_down[0], after_down[1])
      << "after down, " << FirstDifference(after_down[0], after_down[1]);
}

std::vector<std::string> Sets() {
  std::vector<std::string> out;
  if (fs::exists(kCorpus)) {
    for (const auto& e : fs::directory_iterator(kCorpus)) {
      if (e.is_directory()) out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Corpus, PeerParityTest, ::testing::ValuesIn(Sets()), [](const auto& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

TEST(PeerParityCorpus, HasSets) { EXPECT_GE(Sets().size(), 4u) << kCorpus; }

}  // namespace
}  // namespace sg::testing
