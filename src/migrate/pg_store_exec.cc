// PgStore: running scripts and writing their records (the other half of
// pg_store.cc, split to keep files small).
#include <chrono>
#include <cstring>
#include <pqxx/pqxx>
#include <sstream>

#include "migrate/pg_store.h"

namespace sg::migrate {
namespace {

using Ms = std::chrono::milliseconds;

// "ERROR:  msg\nDETAIL:  d\nHINT:  h\nLINE 1: ..." -> "msg; DETAIL: d; HINT: h".
std::string PrimaryMessage(const std::string& what) {
  std::istringstream in(what);
  std::string line, out;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      for (const char* p : {"ERROR:  ", "FATAL:  "}) {
        if (line.rfind(p, 0) == 0) line.erase(0, std::strlen(p));
      }
      out = line;
      first = false;
    } else if (line.rfind("DETAIL:", 0) == 0 || line.rfind("HINT:", 0) == 0) {
      out += "; " + line;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

int64_t ElapsedMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start).count();
}

std::string MsLiteral(std::optional<Ms> d) {
  return "'" + std::to_string(d ? d->count() : 0) + "ms'";
}

}  // namespace

// Records `token` unless a higher one is there; returns a row only on success,
// inside the caller's transaction, so a stale run can never commit after a newer
// one has started.
std::string PgStore::FenceUpsert(int64_t token) const {
  return "INSERT INTO " + Fence() + " AS f (id, token, holder) VALUES (1, " +
         std::to_string(token) + ", " + main_->quote(options_.identity) +
         ") ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, holder = EXCLUDED.holder,"
         " updated_at = now() WHERE f.token <= EXCLUDED.token RETURNING token";
}

ExecResult PgStore::RunTransactional(const SourceMigration& m, bool up,
                                     const ExecOptions& options) {
  const std::vector<Statement>& statements = up ? m.up_statements : m.down_statements;
  ExecResult res;
  auto run = [&](const std::string& sql) {
    pqxx::nontransaction tx(*main_);
    return tx.exec(sql);
  };
  auto rollback = [&] {
    try {
      run("ROLLBACK");
    } catch (const std::exception&) {
      // The server rolls back when the session ends anyway.
    }
  };
  const std::string table = Table();
  std::string current = "(schemagate: begin)";
  int current_line = 0;
  try {
    std::string prelude = Prelude(options);
    if (options.fence_token > 0) {
      prelude += "; " + FenceUpsert(options.fence_token);
    }
    pqxx::result fenced = run(prelude);
    if (options.fence_token > 0 && fenced.empty()) {
      rollback();
      res.outcome = ExecOutcome::kFenced;
      return res;
    }
    auto start = std::chrono::steady_clock::now();
    for (const Statement& s : statements) {
      current = s.text;
      current_line = s.line;
      run(s.text);
      ++res.failure.statements_done;
    }
    res.execution_ms = ElapsedMs(start);
    current = "(schemagate: recording the result)";
    current_line = 0;
    std::string record;
    if (up) {
      record = "INSERT INTO " + table +
               " (version, name, checksum, state, no_transaction, execution_ms, applied_by,"
               " runner_version, fence_token) VALUES (" +
               std::to_string(m.migration.version) + ", " + main_->quote(m.migration.name) + ", " +
               main_->quote(m.migration.checksum) + ", 'applied', false, " +
               std::to_string(res.execution_ms) + ", " + main_->quote(options_.identity) + ", " +
               main_->quote(options_.runner_version) + ", " +
               (options.fence_token > 0 ? std::to_string(options.fence_token) : "NULL") + ")";
    } else {
      record = "DELETE FROM " + table + " WHERE version = " + std::to_string(m.migration.version);
    }
    current = "(schemagate: commit)";
    run(record + "; COMMIT");
    res.failure = {};
    return res;
  } catch (const pqxx::broken_connection& e) {
    res.outcome = ExecOutcome::kConnectionLost;
    res.failure.message = conn_.Redact(PrimaryMessage(e.what()));
    res.failure.statement = current;
    res.failure.line = current_line;
    return res;
  } catch (const pqxx::sql_error& e) {
    rollback();
    res.outcome = ExecOutcome::kSqlError;
    res.failure.sqlstate = e.sqlstate();
    res.failure.message = conn_.Redact(PrimaryMessage(e.what()));
    res.failure.statement = current;
    res.failure.line = current_line;
    return res;
  } catch (const std::exception& e) {
    rollback();
    res.outcome = ExecOutcome::kSqlError;
    res.failure.message = conn_.Redact(PrimaryMessage(e.what()));
    res.failure.statement = current;
    res.failure.line = current_line;
    return res;
  }
}

ExecResult PgStore::RunOutsideTransaction(const SourceMigration& m, bool up,
                                          const ExecOptions& options) {
  const std::vector<Statement>& statements = up ? m.up_statements : m.down_statements;
  const std::string table = Table();
  const std::string version = std::to_string(m.migration.version);
  ExecResult res;
  auto run = [&](const std::string& sql) {
    pqxx::nontransaction tx(*main_);
    return tx.exec(sql);
  };
  auto fail_from = [&](const std::exception& e, const std::string& statement, int line) {
    res.outcome = ExecOutcome::kSqlError;
    if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e))
      res.failure.sqlstate = sql->sqlstate();
    if (dynamic_cast<const pqxx::broken_connection*>(&e))
      res.outcome = ExecOutcome::kConnectionLost;
    res.failure.message = conn_.Redact(PrimaryMessage(e.what()));
    res.failure.statement = statement;
    res.failure.line = line;
  };

  // 1. Mark the version as running (a crash from here on leaves that mark).
  try {
    std::string begin = "BEGIN";
    if (options.fence_token > 0) {
      begin += "; " + FenceUpsert(options.fence_token);
    }
    pqxx::result fenced = run(begin);
    if (options.fence_token > 0 && fenced.empty()) {
      run("ROLLBACK");
      res.outcome = ExecOutcome::kFenced;
      return res;
    }
    std::string mark =
        up ? "INSERT INTO " + table +
                 " (version, name, checksum, state, no_transaction, applied_by, runner_version,"
                 " fence_token) VALUES (" +
                 version + ", " + main_->quote(m.migration.name) + ", " +
                 main_->quote(m.migration.checksum) + ", 'running', true, " +
                 main_->quote(options_.identity) + ", " + main_->quote(options_.runner_version) +
                 ", " + (options.fence_token > 0 ? std::to_string(options.fence_token) : "NULL") +
                 ")"
           : "UPDATE " + table +
                 " SET state = 'running', no_transaction = true WHERE version = " + version;
    run(mark + "; COMMIT");
  } catch (const std::exception& e) {
    try {
      run("ROLLBACK");
    } catch (const std::exception&) {
    }
    fail_from(e, "(schemagate: marking the version as running)", 0);
    return res;
  }

  // 2. The statements, each on its own, under session-level timeouts.
  auto start = std::chrono::steady_clock::now();
  bool ok = true;
  try {
    run("SET lock_timeout = " + MsLiteral(options.lock_timeout) +
        "; SET statement_timeout = " + MsLiteral(options.statement_timeout));
  } catch (const std::exception& e) {
    fail_from(e, "(schemagate: setting timeouts)", 0);
    ok = false;
  }
  for (size_t i = 0; ok && i < statements.size(); ++i) {
    try {
      run(statements[i].text);
      ++res.failure.statements_done;
    } catch (const std::exception& e) {
      fail_from(e, statements[i].text, statements[i].line);
      ok = false;
    }
  }
  res.execution_ms = ElapsedMs(start);

  // 3. Record the outcome.
  try {
    run("RESET lock_timeout; RESET statement_timeout");
    if (ok) {
      run(up ? "UPDATE " + table + " SET state = 'applied', applied_at = now(), execution_ms = " +
                   std::to_string(res.execution_ms) + " WHERE version = " + version
             : "DELETE FROM " + table + " WHERE version = " + version);
      res.failure = {};
      return res;
    }
    bool clean = res.failure.statements_done == 0 && res.failure.sqlstate == "55P03";
    if (clean) {
      // Nothing ran: the lock wait timed out before the first statement did
      // anything. Undo the mark so the runner may retry.
      run(up ? "DELETE FROM " + table + " WHERE version = " + version
             : "UPDATE " + table + " SET state = 'applied' WHERE version = " + version);
      return res;
    }
    res.needs_repair = true;
    run("UPDATE " + table +
        " SET state = 'failed', sqlstate = " + main_->quote(res.failure.sqlstate) +
        ", error_message = " + main_->quote(res.failure.message) +
        ", failed_statement = " + main_->quote(res.failure.statement) +
        ", statements_done = " + std::to_string(res.failure.statements_done) +
        ", execution_ms = " + std::to_string(res.execution_ms) + " WHERE version = " + version);
  } catch (const std::exception& e) {
    // The record still says running: the next run refuses until repair.
    res.needs_repair = true;
    if (ok) fail_from(e, "(schemagate: recording the result)", 0);
  }
  return res;
}

Status PgStore::Baseline(const std::vector<const SourceMigration*>& migrations) {
  if (migrations.empty()) return OkStatus();
  std::string sql = "BEGIN; INSERT INTO " + Table() +
                    " (version, name, checksum, state, baseline, execution_ms, applied_by,"
                    " runner_version) VALUES ";
  for (size_t i = 0; i < migrations.size(); ++i) {
    const Migration& m = migrations[i]->migration;
    if (i) sql += ", ";
    sql += "(" + std::to_string(m.version) + ", " + main_->quote(m.name) + ", " +
           main_->quote(m.checksum) + ", 'applied', true, 0, " + main_->quote(options_.identity) +
           ", " + main_->quote(options_.runner_version) + ")";
  }
  sql += "; COMMIT";
  Status s = Exec(sql, "recording the baseline");
  if (!s.ok()) Exec("ROLLBACK", "rollback").IgnoreError();
  return s;
}

StatusOr<std::vector<int64_t>> PgStore::ClearUnfinished() {
  try {
    pqxx::nontransaction tx(*main_);
    pqxx::result r =
        tx.exec("DELETE FROM " + Table() + " WHERE state <> 'applied' RETURNING version");
    std::vector<int64_t> out;
    for (const auto& row : r) out.push_back(row[0].as<int64_t>());
    return out;
  } catch (const std::exception& e) {
    return InternalError("clearing failed records: " + conn_.Redact(PrimaryMessage(e.what())));
  }
}

std::vector<std::string> PgStore::InvalidIndexes() {
  std::vector<std::string> out;
  try {
    pqxx::nontransaction tx(*main_);
    pqxx::result r = tx.exec(
        "SELECT i.indexrelid::regclass::text FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " ORDER BY 1");
    for (const auto& row : r) out.push_back(row[0].as<std::string>());
  } catch (const std::exception&) {
    // Diagnostics only.
  }
  return out;
}

}  // namespace sg::migrate
