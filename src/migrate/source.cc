#include "migrate/source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "migrate/checksum.h"

namespace sg::migrate {
namespace fs = std::filesystem;

namespace {

StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidError(path.string() + ": cannot read: " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return InvalidError(path.string() + ": read failed");
  return buf.str();
}

std::string JoinProblems(const std::string& dir, const std::vector<std::string>& problems) {
  std::string m = "migrations in " + dir + ": ";
  if (problems.size() > 1) m += std::to_string(problems.size()) + " problems: ";
  for (size_t i = 0; i < problems.size(); ++i) {
    if (i) m += "; ";
    m += problems[i];
  }
  return m;
}

}  // namespace

const SourceMigration* Source::Find(int64_t version) const {
  auto it =
      std::lower_bound(migrations.begin(), migrations.end(), version,
                       [](const SourceMigration& m, int64_t v) { return m.migration.version < v; });
  if (it == migrations.end() || it->migration.version != version) return nullptr;
  return &*it;
}

StatusOr<std::vector<Statement>> PrepareScript(const std::string& path, std::string_view sql,
                                               bool no_transaction) {
  auto split = SplitStatements(sql);
  if (!split.ok()) return InvalidError(path + ": " + split.status().message());
  std::vector<Statement> statements = std::move(split).value();
  if (statements.empty()) {
    return InvalidError(path + ": no SQL statements (the file is empty or only comments)");
  }
  if (no_transaction) return statements;
  if (statements.size() >= 2 && IsTransactionControl(statements.front()) &&
      IsTransactionControl(statements.back())) {
    statements.erase(statements.begin());
    statements.pop_back();
    if (statements.empty()) {
      return InvalidError(path + ": no SQL statements between BEGIN and COMMIT");
    }
  }
  for (const Statement& s : statements) {
    if (IsTransactionControl(s)) {
      return InvalidError(path + ":" + std::to_string(s.line) +
                          ": transaction control statement \"" + s.text.substr(0, 40) +
                          "\": each migration already runs in its own transaction; put `" +
                          std::string(kNoTransactionDirective) +
                          "` on the first line to manage transactions yourself");
    }
  }
  return statements;
}

StatusOr<Source> LoadSource(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return NotFoundError("migrations directory " + dir + " does not exist");
    }
    return InvalidError("migrations directory " + dir + ": cannot read: " + ec.message());
  }

  struct Pair {
    std::optional<fs::path> up, down;
    std::optional<FileName> up_name, down_name;
  };
  std::map<int64_t, Pair> by_version;
  std::vector<std::string> problems;

  std::vector<fs::path> entries;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    entries.push_back(it->path());
  }
  if (ec) return InvalidError("migrations directory " + dir + ": cannot list: " + ec.message());
  std::sort(entries.begin(), entries.end());

  for (const fs::path& p : entries) {
    std::string file = p.filename().string();
    if (file.starts_with(".")) continue;
    if (!fs::is_regular_file(p, ec)) continue;  // follows symlinks; skips dirs
    if (!file.ends_with(".sql")) continue;
    auto parsed = ParseFileName(file);
    if (!parsed) {
      problems.push_back(file +
                         ": malformed name: expected <version>_<name>.up.sql or "
                         "<version>_<name>.down.sql with a version of digits (at most 18)");
      continue;
    }
    Pair& pair = by_version[parsed->version];
    auto& slot = parsed->direction == Direction::kUp ? pair.up : pair.down;
    auto& slot_name = parsed->direction == Direction::kUp ? pair.up_name : pair.down_name;
    if (slot) {
      problems.push_back(file + ": duplicate version " + std::to_string(parsed->version) +
                         " (also " + slot->filename().string() + ")");
      continue;
    }
    slot = p;
    slot_name = parsed;
  }

  Source source;
  source.dir = dir;
  for (auto& [version, pair] : by_version) {
    if (!pair.up) {
      problems.push_back(pair.down->filename().string() + ": down migration without an up file");
      continue;
    }
    if (pair.down && pair.down_name->name != pair.up_name->name) {
      problems.push_back(pair.down->filename().string() + ": name does not match " +
                         pair.up->filename().string());
      continue;
    }
    SourceMigration sm;
    Migration& m = sm.migration;
    m.version = version;
    m.name = pair.up_name->name;
    auto up_sql = ReadFile(*pair.up);
    if (!up_sql.ok()) {
      problems.push_back(up_sql.status().message());
      continue;
    }
    m.up = Script{pair.up->string(), std::move(up_sql).value(), false};
    m.up.no_transaction = HasNoTransactionDirective(m.up.sql);
    m.checksum = Sha256Hex(m.up.sql);
    auto up_statements = PrepareScript(pair.up->filename().string(), m.up.sql, m.up.no_transaction);
    if (!up_statements.ok()) {
      problems.push_back(up_statements.status().message());
      continue;
    }
    sm.up_statements = std::move(up_statements).value();
    if (pair.down) {
      auto down_sql = ReadFile(*pair.down);
      if (!down_sql.ok()) {
        problems.push_back(down_sql.status().message());
        continue;
      }
      Script down{pair.down->string(), std::move(down_sql).value(), false};
      down.no_transaction = HasNoTransactionDirective(down.sql);
      // An empty down file is legal until someone runs it (`new` writes one).
      auto split = SplitStatements(down.sql);
      if (!split.ok()) {
        problems.push_back(pair.down->filename().string() + ": " + split.status().message());
        continue;
      }
      if (!split->empty()) {
        auto down_statements =
            PrepareScript(pair.down->filename().string(), down.sql, down.no_transaction);
        if (!down_statements.ok()) {
          problems.push_back(down_statements.status().message());
          continue;
        }
        sm.down_statements = std::move(down_statements).value();
      }
      m.down = std::move(down);
    }
    source.migrations.push_back(std::move(sm));
  }
  if (!problems.empty()) return InvalidError(JoinProblems(dir, problems));
  return source;
}

}  // namespace sg::migrate
