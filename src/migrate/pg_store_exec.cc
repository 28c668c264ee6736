// PgStore: running scripts and writing their records (the other half of
// pg_store.cc, split to keep files small).
#include <cctype>
#include <chrono>
#include <cstring>
#include <pqxx/pqxx>
#include <sstream>

#include "migrate/pg_error_text.h"
#include "migrate/pg_store.h"

namespace sg::migrate {
namespace {

using Ms = std::chrono::milliseconds;

int64_t ElapsedMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start).count();
}

std::string MsLiteral(std::optional<Ms> d) {
  return "'" + std::to_string(d ? d->count() : 0) + "ms'";
}

}  // namespace

namespace {

// A wait for the fence row always ends: with lock_timeout when one is set,
// else with this (a waiter with a snapshot must never block a holder's
// CREATE INDEX CONCURRENTLY for good).
constexpr Ms kDefaultFenceWait(5000);

Ms FenceWait(const ExecOptions& options) {
  return options.lock_timeout.value_or(kDefaultFenceWait);
}

ExecResult Stopped(const std::string& statement) {
  ExecResult r;
  r.outcome = ExecOutcome::kSqlError;
  r.failure.sqlstate = "57014";
  r.failure.message = "canceled: the runner is stopping (SIGTERM or SIGINT)";
  r.failure.statement = statement;
  return r;
}

}  // namespace

std::string PgStore::FenceCheck(const SourceMigration& m, const ExecOptions& options) const {
  const std::string state = "(SELECT state FROM " + Table() +
                            " WHERE version = " + std::to_string(m.migration.version) + ")";
  if (options.fence_token <= 0) return "SELECT NULL::bigint, " + state;
  return "SET LOCAL lock_timeout = " + MsLiteral(FenceWait(options)) + "; SELECT f.token, " +
         state + " FROM " + Fence() + " f WHERE f.id = 1 FOR UPDATE OF f";
}

ExecResult PgStore::Verdict(const pqxx::result& r, bool up, const ExecOptions& options) const {
  ExecResult res;
  if (options.fence_token > 0 &&
      (r.empty() || r[0][0].is_null() || r[0][0].as<int64_t>() != options.fence_token)) {
    // Another token (only ever higher: the fence never goes down), or the
    // fence row was deleted by hand: either way not ours any more.
    res.outcome = ExecOutcome::kFenced;
    return res;
  }
  std::string state = r.empty() ? "" : r[0][1].as<std::string>("");
  if (up ? state == "applied" : state.empty()) {
    res.outcome = ExecOutcome::kAlreadyDone;
  } else if (!state.empty() && state != "applied") {
    res.outcome = ExecOutcome::kSqlError;
    res.needs_repair = true;
    res.failure.message = "another run recorded this version as " + state;
  }
  return res;
}

StatusOr<pqxx::connection*> PgStore::FenceConnection() {
  std::lock_guard<std::mutex> l(cancel_mu_);
  if (fence_conn_) return fence_conn_.get();
  try {
    auto c = std::make_unique<pqxx::connection>(conn_.conninfo());
    pqxx::nontransaction tx(*c);
    // The session only holds a row lock while another session works: a
    // server-wide idle_in_transaction_session_timeout must not end it.
    tx.exec("SET application_name = " + c->quote("schemagate fence " + options_.identity) +
            "; SET idle_in_transaction_session_timeout = 0; SET statement_timeout = 0");
    fence_conn_ = std::move(c);
    return fence_conn_.get();
  } catch (const std::exception& e) {
    return UnavailableError("fence session: " + conn_.Redact(PrimaryMessage(e.what())));
  }
}

void PgStore::Cancel() {
  std::lock_guard<std::mutex> l(cancel_mu_);
  for (pqxx::connection* c : {main_.get(), fence_conn_.get()}) {
    if (!c) continue;
    try {
      c->cancel_query();
    } catch (const std::exception&) {
      // Nothing in flight, or the session is gone: either way nothing runs.
    }
  }
}

void PgStore::Failed(const std::exception& e, const std::string& statement, int line,
                     ExecResult* res) const {
  res->outcome = dynamic_cast<const pqxx::broken_connection*>(&e) ? ExecOutcome::kConnectionLost
                                                                  : ExecOutcome::kSqlError;
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) res->failure.sqlstate = sql->sqlstate();
  res->failure.message = conn_.Redact(PrimaryMessage(e.what()));
  res->failure.detail = conn_.Redact(DetailOf(e.what()));
  res->failure.statement = statement;
  res->failure.line = line;
}

ExecResult PgStore::TakeFence(int64_t token, const ExecOptions& options) {
  ExecResult res;
  try {
    pqxx::nontransaction tx(*main_);
    // One implicit transaction (a multi-statement query): the lock wait is
    // bounded, the upsert never lowers the token, and the result says
    // whether the row is ours now.
    pqxx::result r =
        tx.exec("SET LOCAL lock_timeout = " + MsLiteral(FenceWait(options)) + "; INSERT INTO " +
                Fence() + " AS f (id, token, holder) VALUES (1, " + std::to_string(token) + ", " +
                main_->quote(options_.identity) +
                ") ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, holder = EXCLUDED.holder,"
                " updated_at = now() WHERE f.token <= EXCLUDED.token RETURNING token");
    if (r.empty()) res.outcome = ExecOutcome::kFenced;
  } catch (const std::exception& e) {
    Failed(e, "(schemagate: taking the fence)", 0, &res);
  }
  return res;
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
    // BEGIN, the timeouts, then the fence and the version's record under the
    // fence's row lock; the user's lock_timeout is restored before the
    // first statement (the fence wait has its own bound).
    pqxx::result checked = run(Prelude(options) + "; " + FenceCheck(m, options));
    ExecResult verdict = Verdict(checked, up, options);
    if (verdict.outcome != ExecOutcome::kDone) {
      rollback();
      return verdict;
    }
    std::string restore = options.fence_token > 0
                              ? "SET LOCAL lock_timeout = " + MsLiteral(options.lock_timeout) + "; "
                              : "";
    auto start = std::chrono::steady_clock::now();
    for (const Statement& s : statements) {
      current = s.text;
      current_line = s.line;
      if (Stopping()) {
        rollback();
        ExecResult stopped = Stopped(current);
        stopped.failure.line = current_line;
        stopped.failure.statements_done = res.failure.statements_done;
        return stopped;
      }
      run(restore + s.text);
      restore.clear();
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
    if (Stopping()) {
      rollback();
      return Stopped(current);
    }
    current = "(schemagate: commit)";
    run(restore + record + "; COMMIT");
    res.failure = {};
    return res;
  } catch (const std::exception& e) {
    Failed(e, current, current_line, &res);
    // A lost session has rolled back on the server already.
    if (res.outcome != ExecOutcome::kConnectionLost) rollback();
    return res;
  }
}

namespace {

// A single statement outside a transaction block is atomic, except the
// CONCURRENTLY forms, which commit part-way (an INVALID index).
bool CommitsPartWay(const std::string& sql) {
  std::string upper;
  for (char c : sql) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper.find("CONCURRENTLY") != std::string::npos;
}

}  // namespace

ExecResult PgStore::RunOutsideTransaction(const SourceMigration& m, bool up,
                                          const ExecOptions& options) {
  const std::vector<Statement>& statements = up ? m.up_statements : m.down_statements;
  const std::string table = Table();
  const std::string version = std::to_string(m.migration.version);
  ExecResult res;
  auto run_on = [&](pqxx::connection& c, const std::string& sql) {
    pqxx::nontransaction tx(c);
    return tx.exec(sql);
  };
  auto run = [&](const std::string& sql) { return run_on(*main_, sql); };
  auto fail_from = [&](const std::exception& e, const std::string& statement, int line) {
    Failed(e, statement, line, &res);
  };

  // 0. The fence, held for the whole file by an idle transaction on its own
  // session (see the header for why CIC does not wait for it); without a
  // token, the record is checked under the runner lock the caller holds.
  pqxx::connection* fence = nullptr;
  auto release_fence = [&] {
    if (!fence) return;
    try {
      run_on(*fence, "ROLLBACK");
    } catch (const std::exception&) {
      // A broken session has released its locks already.
    }
    fence = nullptr;
  };
  try {
    pqxx::result checked;
    if (options.fence_token > 0) {
      auto c = FenceConnection();
      if (!c.ok()) {
        res.outcome = ExecOutcome::kConnectionLost;
        res.failure.message = c.status().message();
        return res;
      }
      fence = *c;
      checked = run_on(*fence, "BEGIN; " + FenceCheck(m, options));
    } else {
      checked = run(FenceCheck(m, options));
    }
    ExecResult verdict = Verdict(checked, up, options);
    if (verdict.outcome != ExecOutcome::kDone) {
      release_fence();
      return verdict;
    }
  } catch (const std::exception& e) {
    release_fence();
    fail_from(e, "(schemagate: taking the fence)", 0);
    return res;
  }
  if (Stopping()) {
    release_fence();
    return Stopped("(schemagate: marking the version as running)");
  }

  // 1. Mark the version as running (a crash from here on leaves that mark).
  try {
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
    run(mark);
  } catch (const std::exception& e) {
    release_fence();
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
  bool stopped = false;  // a statement was not sent because the runner is stopping
  for (size_t i = 0; ok && i < statements.size(); ++i) {
    if (Stopping()) {
      ExecResult why = Stopped(statements[i].text);
      res.outcome = why.outcome;
      res.failure.sqlstate = why.failure.sqlstate;
      res.failure.message = why.failure.message;
      res.failure.statement = statements[i].text;
      res.failure.line = statements[i].line;
      ok = false;
      stopped = true;
      break;
    }
    try {
      run(statements[i].text);
      ++res.failure.statements_done;
    } catch (const std::exception& e) {
      fail_from(e, statements[i].text, statements[i].line);
      ok = false;
    }
  }
  res.execution_ms = ElapsedMs(start);

  // 3. Record the outcome, then let go of the fence.
  try {
    run("RESET lock_timeout; RESET statement_timeout");
    if (ok) {
      run(up ? "UPDATE " + table + " SET state = 'applied', applied_at = now(), execution_ms = " +
                   std::to_string(res.execution_ms) + " WHERE version = " + version
             : "DELETE FROM " + table + " WHERE version = " + version);
      res.failure = {};
      release_fence();
      return res;
    }
    // Nothing ran when the first statement timed out waiting for a lock, or
    // was cancelled and is atomic on its own: undo the mark (a retry may run).
    bool clean = res.failure.statements_done == 0 &&
                 (stopped || res.failure.sqlstate == "55P03" ||
                  (res.failure.sqlstate == "57014" && !CommitsPartWay(res.failure.statement)));
    if (clean) {
      run(up ? "DELETE FROM " + table + " WHERE version = " + version
             : "UPDATE " + table + " SET state = 'applied' WHERE version = " + version);
      release_fence();
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
  release_fence();
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
  } catch (const pqxx::undefined_table&) {
    return std::vector<int64_t>{};  // never tracked: nothing to repair
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "3F000") return std::vector<int64_t>{};  // no schema yet
    return InternalError("clearing failed records: " + conn_.Redact(PrimaryMessage(e.what())));
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
