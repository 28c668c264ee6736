// Differential test of the SQL splitter (migrate/sql_splitter.h) against psql
// itself. Each script goes through `psql -f` to a real server that logs every
// query it receives (log_statement = all, as JSON lines); the statements psql
// sent must be the ones SplitStatements returns, in the same order. That is
// the promise the runner makes: a file runs statement by statement exactly
// as `psql -f` would run it.
//
// Scripts: every .sql file of the repository (the golang-migrate corpus,
// applied set by set in version order, the examples and the fuzz seeds) and
// generated ones (pg/sql_generator.h) from a printed seed:
//   SG_SPLITTER_SEED=<n>     replays a run
//   SG_SPLITTER_SCRIPTS=<n>  how many to generate (default 300)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "migrate/sql_splitter.h"
#include "pg/sql_generator.h"
#include "support/pg_server.h"
#include "support/subprocess.h"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;

struct Script {
  std::string name;   // the file, or "generated #k"
  std::string group;  // scripts of one group run in order on one database
  fs::path path;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The offset after leading white space and comments (`--` and nested /* */).
size_t SkipNoise(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s.compare(i, 2, "--") == 0) {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (s.compare(i, 2, "/*") == 0) {
      int depth = 0;
      while (i < s.size()) {
        if (s.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else {
      break;
    }
  }
  return i;
}

// What both sides are compared on: psql drops the white space and `--`
// comments before a statement, and it skips empty lines (outside quotes) as
// it reads the file. Neither changes what runs.
std::string Normalise(std::string_view s) {
  s.remove_prefix(SkipNoise(s));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out;
  for (char c : s) {
    if (c == '\n' && !out.empty() && out.back() == '\n') continue;
    out += c;
  }
  return out;
}

// The splitter's statements as psql sends them: each one's text is a slice
// of the file without its terminating ';'; put back what follows it up to
// and including that ';' (psql sends it), when there is one.
std::vector<std::string> WithTerminators(const std::string& sql,
                                         const std::vector<migrate::Statement>& statements) {
  std::vector<std::string> out;
  size_t cursor = 0;
  for (const auto& s : statements) {
    size_t at = sql.find(s.text, cursor);
    if (at == std::string::npos) {
      out.push_back(s.text);  // cannot happen: the fuzz target checks it
      continue;
    }
    size_t end = at + s.text.size();
    size_t after = end;
    while (after < sql.size() && std::isspace(static_cast<unsigned char>(sql[after]))) ++after;
    if (after < sql.size() && sql[after] == ';') end = after + 1;
    out.push_back(sql.substr(at, end - at));
    cursor = end;
  }
  return out;
}

std::vector<Script> RepositoryScripts() {
  std::vector<Script> out;
  const fs::path root = SG_SOURCE_DIR;
  for (const char* top :
       {"tests/corpus", "tests/fuzz/corpus/fuzz_sql_splitter", "manifests/examples"}) {
    if (!fs::exists(root / top)) continue;
    std::map<fs::path, std::vector<fs::path>> by_dir;
    for (const auto& e : fs::recursive_directory_iterator(root / top)) {
      if (e.is_regular_file() && e.path().extension() == ".sql") {
        by_dir[e.path().parent_path()].push_back(e.path());
      }
    }
    for (auto& [dir, files] : by_dir) {
      // golang-migrate order: the ups by version, then the downs in reverse.
      std::vector<fs::path> up, down;
      for (auto& f : files) {
        (f.filename().string().ends_with(".down.sql") ? down : up).push_back(f);
      }
      std::sort(up.begin(), up.end());
      std::sort(down.rbegin(), down.rend());
      up.insert(up.end(), down.begin(), down.end());
      for (auto& f : up) {
        out.push_back({fs::relative(f, root).string(), fs::relative(dir, root).string(), f});
      }
    }
  }
  return out;
}

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("SG_SPLITTER_SEED")) return std::stoull(s);
  return std::random_device{}() * 2654435761ULL ^ std::random_device{}();
}

class SplitterPsqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = PgServer::Start(PgServer::Options{{
        "log_statement=all",
        "logging_collector=on",
        "log_destination=jsonlog",
        "log_directory=log",
        "log_filename=statements.log",  // written as statements.json
        "log_rotation_size=0",
        "log_rotation_age=0",
    }});
  }
  static void TearDownTestSuite() { server_.reset(); }

  // Runs the script through psql under application_name `tag`.
  void RunPsql(const std::string& url, const fs::path& file, const std::string& tag) {
    RunResult r =
        RunCommand({server_->bindir() + "/psql", "-X", "-q", "-d", url, "-f", file.string()},
                   {{"PGAPPNAME", tag}, {"PGCONNECT_TIMEOUT", "10"}});
    ASSERT_NE(r.exit_code, -1) << "psql was killed on " << file << ": " << r.err;
  }

  // The statements the server received, by application_name, in order.
  // A statement that parsed is logged as "statement: ..."; one that did not
  // parse only as an ERROR's statement field (an ERROR right after the log of
  // the same statement is that statement failing, not a second one).
  static std::map<std::string, std::vector<std::string>> ReceivedStatements(
      const std::string& sentinel) {
    const fs::path log = fs::path(server_->dir()) / "data" / "log" / "statements.json";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string text;
    while (std::chrono::steady_clock::now() < deadline) {
      text = Slurp(log);
      if (text.find("\"application_name\":\"" + sentinel + "\"") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::map<std::string, std::vector<std::string>> out;
    std::map<int64_t, std::string> last_logged;  // by backend pid
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("application_name")) continue;
      const std::string app = j.value("application_name", "");
      const int64_t pid = j.value("pid", int64_t{0});
      const std::string severity = j.value("error_severity", "");
      const std::string message = j.value("message", "");
      if (severity == "LOG" && message.starts_with("statement: ")) {
        out[app].push_back(message.substr(11));
        last_logged[pid] = message.substr(11);
      } else if (severity == "ERROR" && j.contains("statement")) {
        const std::string statement = j.value("statement", "");
        if (last_logged[pid] != statement) out[app].push_back(statement);
        last_logged[pid].clear();
      }
    }
    return out;
  }

  static std::unique_ptr<PgServer> server_;
};

std::unique_ptr<PgServer> SplitterPsqlTest::server_;

std::string Show(const std::vector<std::string>& statements) {
  std::string out;
  for (size_t i = 0; i < statements.size(); ++i) {
    std::string s = statements[i].substr(0, 300);
    out += "    [" + std::to_string(i) + "] " + s + (s.size() < statements[i].size() ? "..." : "") +
           "\n";
  }
  return out.empty() ? "    (none)\n" : out;
}

// Where two lists first differ: the statement index and, within it, the
// first differing byte with some context on both sides.
std::string FirstDifference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i >= a.size() || i >= b.size()) {
      return "statement [" + std::to_string(i) + "] is only in " +
             (i < a.size() ? "psql's" : "ours");
    }
    if (a[i] == b[i]) continue;
    size_t at = 0;
    while (at < a[i].size() && at < b[i].size() && a[i][at] == b[i][at]) ++at;
    const size_t from = at > 60 ? at - 60 : 0;
    return "statement [" + std::to_string(i) + "], byte " + std::to_string(at) +
           ":\n    psql: ..." + a[i].substr(from, 120) + "\n    ours: ..." + b[i].substr(from, 120);
  }
  return "(equal)";
}

TEST_F(SplitterPsqlTest, SplitsEveryScriptAsPsqlSendsIt) {
  const uint64_t seed = SeedFromEnv();
  const int generated =
      std::getenv("SG_SPLITTER_SCRIPTS") ? std::atoi(std::getenv("SG_SPLITTER_SCRIPTS")) : 300;
  std::cout << "splitter_psql: seed " << seed << " (SG_SPLITTER_SEED=" << seed << " replays), "
            << generated << " generated scripts" << std::endl;
  RecordProperty("seed", std::to_string(seed));

  std::vector<Script> scripts = RepositoryScripts();
  const size_t from_repository = scripts.size();
  ASSERT_GT(from_repository, 20u) << "the corpus under tests/corpus is missing";
  const fs::path tmp = fs::temp_directory_path() / ("sg-splitter-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> generated_text;
  for (int k = 0; k < generated; ++k) {
    const std::string name = "generated #" + std::to_string(k);
    const fs::path file = tmp / ("g" + std::to_string(k) + ".sql");
    generated_text[name] = GenerateScript(rng);
    std::ofstream(file, std::ios::binary) << generated_text[name];
    scripts.push_back({name, "generated", file});
  }

  std::map<std::string, std::string> db_of_group;
  for (size_t i = 0; i < scripts.size(); ++i) {
    auto& db = db_of_group[scripts[i].group];
    if (db.empty()) db = server_->CreateDatabase("split");
    RunPsql(db, scripts[i].path, "sgdiff-" + std::to_string(i));
  }
  const std::string sentinel = "sgdiff-end";
  {
    const fs::path end = tmp / "end.sql";
    std::ofstream(end) << "SELECT 'end';\n";
    RunPsql(server_->Url(), end, sentinel);
  }
  auto received = ReceivedStatements(sentinel);
  ASSERT_EQ(received[sentinel].size(), 1u) << "the server's statement log was not read";

  size_t compared = 0, statements = 0, skipped = 0, differ = 0;
  for (size_t i = 0; i < scripts.size(); ++i) {
    const Script& script = scripts[i];
    const std::string sql = Slurp(script.path);
    auto split = migrate::SplitStatements(sql);
    if (!split.ok()) {
      // Unterminated quotes or comments: the runner refuses the file, so
      // there is no split to compare. Only the fuzz seeds (hostile on
      // purpose) may be such files.
      ++skipped;
      EXPECT_NE(script.name.find("fuzz/corpus/"), std::string::npos)
          << script.name << " is refused by the splitter: " << split.status();
      std::cout << "splitter_psql: " << script.name << " refused: " << split.status() << std::endl;
      continue;
    }
    std::vector<std::string> ours, psql;
    for (const auto& s : WithTerminators(sql, *split)) {
      if (auto n = Normalise(s); !n.empty()) ours.push_back(n);
    }
    for (const auto& s : received["sgdiff-" + std::to_string(i)]) {
      if (auto n = Normalise(s); !n.empty()) psql.push_back(n);
    }
    ++compared;
    statements += psql.size();
    if (ours != psql) {
      ++differ;
      std::string what = script.name + " splits differently from psql at " +
                         FirstDifference(psql, ours) + "\n  psql sent:\n" + Show(psql) +
                         "  SplitStatements:\n" + Show(ours);
      if (generated_text.count(script.name)) {
        what += "  script:\n" + generated_text[script.name] + "\n  seed " + std::to_string(seed);
      }
      ADD_FAILURE() << what;
      if (differ >= 10) break;
    }
  }
  std::cout << "splitter_psql: " << compared << " scripts (" << from_repository
            << " from the repository), " << statements << " statements compared, " << skipped
            << " refused by the splitter, " << differ << " different; seed " << seed << std::endl;
  EXPECT_EQ(differ, 0u) << "seed " << seed;
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace sg::testing
