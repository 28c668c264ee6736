#include "migrate/pg_store.h"

#include <chrono>
#include <cstring>
#include <pqxx/pqxx>

#include "migrate/checksum.h"
#include "migrate/pg_error_text.h"

namespace sg::migrate {
namespace {

using Ms = std::chrono::milliseconds;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// No DETAIL (it may hold row values): see pg_error_text.h.
std::string CleanMessage(const std::string& what) { return PrimaryMessage(Trimmed(what)); }

int64_t DeriveLockKey(const std::string& schema, const std::string& table) {
  std::string digest = Sha256Hex("schemagate:" + schema + "." + table);
  return static_cast<int64_t>(std::stoull(digest.substr(0, 16), nullptr, 16));
}

std::string MsLiteral(std::optional<Ms> d) {
  return "'" + std::to_string(d ? d->count() : 0) + "ms'";
}

}  // namespace

PgStore::PgStore(const ConnInfo& conn, PgStoreOptions options,
                 std::unique_ptr<pqxx::connection> main)
    : conn_(conn),
      options_(std::move(options)),
      main_(std::move(main)),
      lock_key_(DeriveLockKey(options_.schema, options_.table)) {}

PgStore::~PgStore() {
  if (locked_) Unlock().IgnoreError();
}

StatusOr<std::unique_ptr<PgStore>> PgStore::Connect(const ConnInfo& conn, PgStoreOptions options) {
  if (options.schema.empty() || options.table.empty()) {
    return InvalidError("tracking schema and table names must not be empty");
  }
  std::unique_ptr<pqxx::connection> c;
  try {
    c = std::make_unique<pqxx::connection>(conn.conninfo());
    std::string setup = "SET application_name = " + c->quote("schemagate " + options.identity);
    // A backend whose client died notices during a long statement and rolls
    // back (PG 14+), instead of holding its locks until the statement ends.
    if (c->server_version() >= 140000) setup += "; SET client_connection_check_interval = '1s'";
    if (options.read_only) setup += "; SET default_transaction_read_only = on";
    pqxx::nontransaction tx(*c);
    tx.exec(setup);
  } catch (const std::exception& e) {
    return UnavailableError("cannot connect to " + conn.display() + ": " +
                            conn.DescribeConnectError(e.what()));
  }
  return std::unique_ptr<PgStore>(new PgStore(conn, std::move(options), std::move(c)));
}

std::string PgStore::Table() const {
  return main_->quote_name(options_.schema) + "." + main_->quote_name(options_.table);
}

std::string PgStore::Fence() const {
  return main_->quote_name(options_.schema) + "." + main_->quote_name(options_.table + "_fence");
}

Status PgStore::Exec(const std::string& sql, const char* what) {
  try {
    pqxx::nontransaction tx(*main_);
    tx.exec(sql);
    return OkStatus();
  } catch (const pqxx::broken_connection& e) {
    return UnavailableError(std::string(what) +
                            ": connection lost: " + conn_.Redact(CleanMessage(e.what())));
  } catch (const pqxx::sql_error& e) {
    return InternalError(std::string(what) + ": " + conn_.Redact(CleanMessage(e.what())) +
                         " (SQLSTATE " + e.sqlstate() + ")");
  } catch (const std::exception& e) {
    return InternalError(std::string(what) + ": " + conn_.Redact(CleanMessage(e.what())));
  }
}

StatusOr<StoreState> PgStore::Read() {
  // The highest token: from the fence table, or, if someone dropped it, from
  // the tracking rows (each records the token it was written under).
  std::string token_source = "SELECT coalesce(max(token), 0) AS token FROM " + Fence();
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::nontransaction tx(*main_);
      if (attempt > 0) {
        pqxx::row exists = tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", Table());
        if (!exists[0].as<bool>()) return StoreState{};  // untracked
        token_source = "SELECT coalesce(max(fence_token), 0) AS token FROM " + Table();
      }
      return ReadWith(tx, token_source);
    } catch (const pqxx::undefined_table&) {
      // The fence table or the tracking table is missing: which one?
      if (attempt > 0) return StoreState{};
    } catch (const pqxx::broken_connection& e) {
      return UnavailableError("reading " + Table() +
                              ": connection lost: " + conn_.Redact(CleanMessage(e.what())));
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() == "3F000") return StoreState{};  // schema does not exist yet
      return InternalError("reading " + Table() + ": " + conn_.Redact(CleanMessage(e.what())) +
                           " (SQLSTATE " + e.sqlstate() + ")");
    } catch (const std::exception& e) {
      return InternalError("reading " + Table() + ": " + conn_.Redact(CleanMessage(e.what())));
    }
  }
}

StatusOr<StoreState> PgStore::ReadWith(pqxx::nontransaction& tx, const std::string& token_source) {
  StoreState state;
  {
    // One round trip: the LEFT JOIN yields one row even for an empty table.
    pqxx::result r = tx.exec(
        "SELECT f.token, t.version, t.name, t.checksum, t.state, t.no_transaction, t.baseline, "
        "(t.applied_at AT TIME ZONE 'UTC')::timestamp(0), "
        "t.execution_ms, t.applied_by, t.runner_version, t.fence_token, t.sqlstate, "
        "t.error_message, t.failed_statement, t.statements_done "
        "FROM (" +
        token_source +
        ") f "
        "LEFT JOIN " +
        Table() + " t ON true ORDER BY t.version");
    state.table_exists = true;
    state.records.reserve(r.size());
    for (const pqxx::row& row : r) {
      state.fence_token = row[0].as<int64_t>();
      if (row[1].is_null()) continue;
      AppliedRecord rec;
      rec.version = row[1].as<int64_t>();
      rec.name = row[2].as<std::string>();
      rec.checksum = row[3].as<std::string>();
      if (!ParseRecordState(row[4].as<std::string>(), &rec.state)) {
        return InternalError("tracking table " + Table() + ": version " +
                             std::to_string(rec.version) + " has unknown state " +
                             row[4].as<std::string>());
      }
      rec.no_transaction = row[5].as<bool>();
      rec.baseline = row[6].as<bool>();
      // "2026-01-02 03:04:05" -> RFC 3339 (cheaper than to_char on the server).
      rec.applied_at = row[7].as<std::string>("");
      if (rec.applied_at.size() == 19) {
        rec.applied_at[10] = 'T';
        rec.applied_at += 'Z';
      }
      rec.execution_ms = row[8].as<int64_t>(0);
      rec.applied_by = row[9].as<std::string>("");
      rec.runner_version = row[10].as<std::string>("");
      rec.fence_token = row[11].as<int64_t>(0);
      rec.sqlstate = row[12].as<std::string>("");
      rec.error_message = row[13].as<std::string>("");
      rec.failed_statement = row[14].as<std::string>("");
      rec.statements_done = row[15].as<int>(0);
      state.records.push_back(std::move(rec));
    }
  }
  return state;
}

Status PgStore::EnsureTables() {
  // Create only what is missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on
  // the database even when the schema exists (and CREATE TABLE IF NOT EXISTS
  // CREATE on the schema even when the table does), which a least-privilege
  // role, with rights on its schema and the tracking tables only, lacks.
  bool have_schema = false, have_table = false, have_fence = false;
  try {
    pqxx::nontransaction tx(*main_);
    pqxx::row row = tx.exec_params1(
        "SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL, "
        "to_regclass($3) IS NOT NULL",
        main_->quote_name(options_.schema), Table(), Fence());
    have_schema = row[0].as<bool>();
    have_table = row[1].as<bool>();
    have_fence = row[2].as<bool>();
  } catch (const std::exception&) {
    // Unknown: fall through and let the CREATE statements say what is wrong.
  }
  if (have_schema && have_table && have_fence) return OkStatus();
  std::string sql;
  if (!have_schema)
    sql += "CREATE SCHEMA IF NOT EXISTS " + main_->quote_name(options_.schema) + ";";
  if (!have_table) {
    sql += "CREATE TABLE IF NOT EXISTS " + Table() +
           " ("
           " version bigint PRIMARY KEY,"
           " name text NOT NULL,"
           " checksum text NOT NULL,"
           " state text NOT NULL DEFAULT 'applied' CHECK (state IN ('applied','failed','running')),"
           " no_transaction boolean NOT NULL DEFAULT false,"
           " baseline boolean NOT NULL DEFAULT false,"
           " applied_at timestamptz NOT NULL DEFAULT now(),"
           " execution_ms bigint,"
           " applied_by text,"
           " runner_version text,"
           " fence_token bigint,"
           " sqlstate text,"
           " error_message text,"
           " failed_statement text,"
           " statements_done integer);";
  }
  if (!have_fence) {
    sql += "CREATE TABLE IF NOT EXISTS " + Fence() +
           " ("
           " id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),"
           " token bigint NOT NULL,"
           " holder text,"
           " updated_at timestamptz NOT NULL DEFAULT now());";
    if (have_table) {
      // Dropped by hand: rebuild it from the tokens the tracking rows were
      // written under, so a runner with an older token stays fenced off.
      sql += "INSERT INTO " + Fence() +
             " (id, token, holder) SELECT 1, coalesce(max(fence_token), 0), 'restored' FROM " +
             Table() + " ON CONFLICT (id) DO NOTHING;";
    }
  }
  Status s = Exec(sql, "creating the tracking tables");
  if (!s.ok() && (s.message().find("23505") != std::string::npos ||
                  s.message().find("42P07") != std::string::npos)) {
    // Lost a creation race with another runner (only possible with --lock=none).
    s = Exec(sql, "creating the tracking tables");
  }
  return s;
}

StatusOr<bool> PgStore::TryLock() {
  if (locked_) return true;
  try {
    if (!lock_conn_) {
      lock_conn_ = std::make_unique<pqxx::connection>(conn_.conninfo());
      pqxx::nontransaction setup(*lock_conn_);
      setup.exec("SET application_name = " +
                 lock_conn_->quote("schemagate lock " + options_.identity));
    }
    pqxx::nontransaction tx(*lock_conn_);
    pqxx::row row = tx.exec_params1("SELECT pg_try_advisory_lock($1)", lock_key_);
    locked_ = row[0].as<bool>();
    return locked_;
  } catch (const pqxx::broken_connection& e) {
    lock_conn_.reset();
    return UnavailableError("runner lock: connection lost: " +
                            conn_.Redact(CleanMessage(e.what())));
  } catch (const std::exception& e) {
    lock_conn_.reset();
    return InternalError("runner lock: " + conn_.Redact(CleanMessage(e.what())));
  }
}

Status PgStore::Unlock() {
  if (!locked_ || !lock_conn_) return OkStatus();
  locked_ = false;
  try {
    pqxx::nontransaction tx(*lock_conn_);
    tx.exec_params("SELECT pg_advisory_unlock($1)", lock_key_);
  } catch (const std::exception& e) {
    // Closing the session releases the lock anyway.
  }
  lock_conn_.reset();
  return OkStatus();
}

std::string PgStore::DescribeLockHolder() {
  try {
    uint64_t key = static_cast<uint64_t>(lock_key_);
    pqxx::nontransaction tx(*main_);
    pqxx::result r = tx.exec_params(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local'),"
        " extract(epoch FROM now() - a.backend_start)::bigint"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid",
        std::to_string(key >> 32), std::to_string(key & 0xffffffffu));
    if (r.empty()) return "";
    const pqxx::row& row = r[0];
    return "held by backend pid " + row[0].as<std::string>() + " (" + row[1].as<std::string>() +
           ", from " + row[2].as<std::string>() + ", connected " + row[3].as<std::string>() +
           "s ago)";
  } catch (const std::exception&) {
    return "";
  }
}

std::string PgStore::Prelude(const ExecOptions& options) const {
  return "BEGIN; SET LOCAL lock_timeout = " + MsLiteral(options.lock_timeout) +
         "; SET LOCAL statement_timeout = " + MsLiteral(options.statement_timeout);
}

ExecResult PgStore::Apply(const SourceMigration& m, const ExecOptions& options) {
  bool no_tx = m.migration.up.no_transaction;
  return no_tx ? RunOutsideTransaction(m, true, options) : RunTransactional(m, true, options);
}

ExecResult PgStore::Revert(const SourceMigration& m, const ExecOptions& options) {
  bool no_tx = m.migration.down && m.migration.down->no_transaction;
  return no_tx ? RunOutsideTransaction(m, false, options) : RunTransactional(m, false, options);
}

}  // namespace sg::migrate
