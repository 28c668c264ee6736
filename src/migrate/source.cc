#include "migrate/source.h"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "migrate/checksum.h"

namespace sg::migrate {
namespace fs = std::filesystem;

namespace {

// open + read + close: three system calls per file (ifstream makes five),
// which is most of `status` on a directory of thousands of files.
StatusOr<std::string> ReadFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InvalidError(path.string() + ": cannot read: " + std::strerror(errno));
  thread_local std::vector<char> buffer(64 * 1024);
  std::string out;
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return InvalidError(path.string() + ": read failed: " + std::strerror(err));
    }
    out.append(buffer.data(), static_cast<size_t>(n));
    // A short read of a regular file means end of file.
    if (static_cast<size_t>(n) < buffer.size()) break;
  }
  ::close(fd);
  return out;
}

// PostgreSQL cannot take a NUL in SQL text and libpq would silently end the
// statement there: refuse the file, naming the line.
Status CheckNoNul(const fs::path& path, std::string_view sql) {
  size_t nul = sql.find('\0');
  if (nul == std::string_view::npos) return OkStatus();
  const auto line =
      1 + std::count(sql.begin(), sql.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
  return InvalidError(path.filename().string() + ":" + std::to_string(line) +
                      ": contains a NUL byte (offset " + std::to_string(nul) +
                      "); SQL text cannot hold one (binary file?)");
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
    // Comments only: a no-op version, as golang-migrate applies it (sets
    // keep such files for numbering). Nothing at all is a mistake.
    if (sql.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos || sql == "\xEF\xBB\xBF") {
      return InvalidError(path + ": empty (no SQL statements, not even a comment)");
    }
    return statements;
  }
  // psql feeds the lines after `COPY ... FROM stdin;` to the server as data;
  // the runner has no such channel, and would run the data as SQL.
  for (const Statement& s : statements) {
    if (IsCopyFromStdin(s)) {
      return InvalidError(path + ":" + std::to_string(s.line) +
                          ": COPY ... FROM STDIN needs psql's inline data, which the runner "
                          "does not send; use INSERT ... VALUES, or COPY FROM a file the server "
                          "can read");
    }
  }
  if (no_transaction) {
    // Its own transactions must be closed by the file: one left open at
    // the end would be rolled back when the runner disconnects, after the
    // version was recorded applied.
    const Statement* open = nullptr;
    for (const Statement& s : statements) {
      switch (ClassifyTransactionControl(s)) {
        case TransactionControl::kBegin:
          open = &s;
          break;
        case TransactionControl::kCommit:
        case TransactionControl::kRollback:
          open = nullptr;
          break;
        default:
          break;
      }
    }
    if (open) {
      return InvalidError(path + ":" + std::to_string(open->line) +
                          ": BEGIN without a COMMIT or ROLLBACK after it: what the transaction "
                          "does would be rolled back when the runner disconnects, after the "
                          "version was recorded applied; end the file with COMMIT");
    }
    return statements;
  }
  // golang-migrate's `BEGIN; ...; COMMIT;` files: the runner's own
  // transaction replaces the wrapper. Only that shape: a ROLLBACK at the end
  // means "do not keep this", which dropping the wrapper would turn into a
  // commit.
  const TransactionControl first = ClassifyTransactionControl(statements.front());
  const TransactionControl last = ClassifyTransactionControl(statements.back());
  if (statements.size() >= 2 && first == TransactionControl::kBegin &&
      last == TransactionControl::kRollback) {
    return InvalidError(path + ":" + std::to_string(statements.back().line) +
                        ": the file ends with ROLLBACK after a BEGIN on line " +
                        std::to_string(statements.front().line) +
                        ": nothing it does would be kept, and the runner commits each migration; "
                        "remove the file or end it with COMMIT");
  }
  if (statements.size() >= 2 && first == TransactionControl::kBegin &&
      last == TransactionControl::kCommit) {
    statements.erase(statements.begin());
    statements.pop_back();
    if (statements.empty()) return statements;  // an empty wrapper: a no-op version
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

namespace {

// A transactional script holding statements PostgreSQL runs only outside a
// transaction block: one such statement alone is run outside one (what the
// author meant, and safe: there is nothing to be half-applied); anything
// else is refused before it fails with 25001, naming the line and the way out.
Status RunsOutsideWhenAlone(const std::string& path, Script& script,
                            std::vector<Statement>& statements) {
  if (script.no_transaction) return OkStatus();
  for (const Statement& s : statements) {
    std::string what = OutsideTransactionOnly(s);
    if (what.empty()) continue;
    if (statements.size() == 1) {
      script.no_transaction = true;
      return OkStatus();
    }
    return InvalidError(path + ":" + std::to_string(s.line) + ": " + what +
                        " cannot run inside a transaction block, and this file runs in one: put `" +
                        std::string(kNoTransactionDirective) +
                        "` on its first line, or move the statement to a file of its own (a "
                        "file holding only that statement runs outside a transaction by itself)");
  }
  return OkStatus();
}

struct Pair {
  std::optional<fs::path> up, down;
  std::optional<FileName> up_name, down_name;
};

// Reads, hashes and splits one version's files: a migration or a problem.
StatusOr<SourceMigration> LoadPair(int64_t version, const Pair& pair) {
  if (!pair.up) {
    return InvalidError(pair.down->filename().string() + ": down migration without an up file");
  }
  // Up and down pair by version, as golang-migrate pairs them: a down file
  // named differently from its up file (a rename of one half) is still its
  // down migration. The migration's name is the up file's.
  SourceMigration sm;
  Migration& m = sm.migration;
  m.version = version;
  m.name = pair.up_name->name;
  SG_ASSIGN_OR_RETURN(std::string up_sql, ReadFile(*pair.up));
  SG_RETURN_IF_ERROR(CheckNoNul(*pair.up, up_sql));
  m.up = Script{pair.up->string(), std::move(up_sql), false};
  m.up.no_transaction = HasNoTransactionDirective(m.up.sql);
  m.checksum = Sha256Hex(m.up.sql);
  SG_ASSIGN_OR_RETURN(sm.up_statements,
                      PrepareScript(pair.up->filename().string(), m.up.sql, m.up.no_transaction));
  SG_RETURN_IF_ERROR(RunsOutsideWhenAlone(pair.up->filename().string(), m.up, sm.up_statements));
  if (pair.down) {
    SG_ASSIGN_OR_RETURN(std::string down_sql, ReadFile(*pair.down));
    SG_RETURN_IF_ERROR(CheckNoNul(*pair.down, down_sql));
    Script down{pair.down->string(), std::move(down_sql), false};
    down.no_transaction = HasNoTransactionDirective(down.sql);
    // An empty down file is legal until someone runs it (`new` writes one).
    auto split = SplitStatements(down.sql);
    if (!split.ok()) {
      return InvalidError(pair.down->filename().string() + ": " + split.status().message());
    }
    if (!split->empty()) {
      SG_ASSIGN_OR_RETURN(sm.down_statements, PrepareScript(pair.down->filename().string(),
                                                            down.sql, down.no_transaction));
      SG_RETURN_IF_ERROR(
          RunsOutsideWhenAlone(pair.down->filename().string(), down, sm.down_statements));
    }
    m.down = std::move(down);
  }
  return sm;
}

}  // namespace

StatusOr<Source> LoadSource(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return NotFoundError("migrations directory " + dir + " does not exist");
    }
    return InvalidError("migrations directory " + dir + ": cannot read: " + ec.message());
  }

  // Names, not fs::path: comparing paths component-wise dominates a sort of
  // thousands of entries.
  std::vector<std::string> names;
  std::vector<std::string> problems;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string file = it->path().filename().string();
    if (file.starts_with(".") || !file.ends_with(".sql")) continue;
    // The type comes from the directory listing; only symlinks cost a stat.
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) {
      // A migration whose link points nowhere (a ConfigMap key removed
      // under a mounted volume, a broken checkout) must not vanish in
      // silence: the version would just look not written yet.
      std::error_code link_ec;
      if (it->is_symlink(link_ec) && !fs::exists(it->path(), link_ec)) {
        problems.push_back(file + ": a symbolic link to nothing (dangling)");
      }
      continue;
    }
    names.push_back(std::move(file));
  }
  if (ec) return InvalidError("migrations directory " + dir + ": cannot list: " + ec.message());
  std::sort(names.begin(), names.end());

  std::map<int64_t, Pair> by_version;
  const fs::path base(dir);
  for (const std::string& file : names) {
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
    slot = base / file;
    slot_name = parsed;
  }

  // Reading, hashing and splitting are independent per version: spread them
  // over the cores (thousands of files is the case `status` must stay fast in).
  std::vector<std::pair<int64_t, const Pair*>> work;
  work.reserve(by_version.size());
  for (const auto& [version, pair] : by_version) work.emplace_back(version, &pair);
  std::vector<std::optional<StatusOr<SourceMigration>>> results(work.size());
  auto run = [&](size_t begin, size_t step) {
    for (size_t i = begin; i < work.size(); i += step) {
      results[i].emplace(LoadPair(work[i].first, *work[i].second));
    }
  };
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), 8);
  if (work.size() < 256) threads = 1;
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t, threads);
  run(0, threads);
  for (auto& t : pool) t.join();

  Source source;
  source.dir = dir;
  source.migrations.reserve(results.size());
  for (auto& r : results) {
    if (r->ok()) {
      source.migrations.push_back(std::move(*r).value());
    } else {
      problems.push_back(r->status().message());
    }
  }
  if (!problems.empty()) return InvalidError(JoinProblems(dir, problems));
  return source;
}

}  // namespace sg::migrate
