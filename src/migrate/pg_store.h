// PgStore: MigrationStore on PostgreSQL through libpqxx. The adapter: every
// pqxx exception stops here and becomes a Status or an ExecResult.
//
// Tables (names configurable): <schema>.<table> holds one row per version;
// <schema>.<table>_fence holds the highest fencing token any run presented.
// The runner lock is a session-level pg_try_advisory_lock on a dedicated
// connection, polled by the runner, never a blocking wait (a blocked waiter
// holds a snapshot that CREATE INDEX CONCURRENTLY would wait for: deadlock).
//
// Fencing (docs/runner.md, "Fencing"): TakeFence raises the fence row to the
// run's token in a transaction of its own. Each transactional migration then
// opens with `SELECT ... FROM <fence> FOR UPDATE` (compare: the row must
// name our token) and reads the version's record in the same statement; the
// row lock lasts until COMMIT, so fenced migrations of all runs on one
// tracking table are serialised and a newer run's TakeFence waits for the
// stale run's migration in flight, after which every later migration of the
// stale run is refused. A no-transaction file holds the same row lock for its
// whole duration in an idle transaction on a third session: CREATE INDEX
// CONCURRENTLY does not wait for an idle READ COMMITTED transaction (it
// holds no snapshot), and every wait for the fence row is bounded by
// lock_timeout (5 s when that is disabled), so a waiter that does hold a
// snapshot gives up and retries instead of deadlocking with it.
//
// Round trips: Read is one query; a transactional migration of N statements
// costs N + 2 (BEGIN+settings+fence, the statements, record+COMMIT), as psql
// with BEGIN/COMMIT around the file.
//
// Thread-safety: not thread-safe, except Cancel() from any thread.
// Ownership: owns its connections.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>

#include "common/status.h"
#include "migrate/conninfo.h"
#include "migrate/store.h"

namespace sg::migrate {

struct PgStoreOptions {
  std::string schema = "public";
  std::string table = "schemagate_migrations";
  std::string identity;        // who applies: pod name, host:pid...
  std::string runner_version;  // recorded with every row
  bool read_only = false;      // every transaction READ ONLY: provably writes nothing
  // Borrowed; when it turns true (SIGTERM), no further statement is sent.
  const std::atomic<bool>* stop = nullptr;
};

class PgStore final : public MigrationStore {
 public:
  // kUnavailable when the server cannot be reached or refuses the login,
  // kInvalid for bad options. Messages are redacted.
  static StatusOr<std::unique_ptr<PgStore>> Connect(const ConnInfo& conn, PgStoreOptions options);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  StatusOr<StoreState> Read() override;
  Status EnsureTables() override;
  StatusOr<bool> TryLock() override;
  Status Unlock() override;
  std::string DescribeLockHolder() override;
  ExecResult Apply(const SourceMigration& m, const ExecOptions& options) override;
  ExecResult Revert(const SourceMigration& m, const ExecOptions& options) override;
  Status Baseline(const std::vector<const SourceMigration*>& migrations) override;
  StatusOr<std::vector<int64_t>> ClearUnfinished() override;
  std::vector<std::string> InvalidIndexes() override;
  ExecResult TakeFence(int64_t token, const ExecOptions& options) override;
  void Cancel() override;

  // The advisory lock key derived from schema and table (so runs against
  // different tracking tables in one database do not serialise).
  int64_t lock_key() const { return lock_key_; }

 private:
  PgStore(const ConnInfo& conn, PgStoreOptions options, std::unique_ptr<pqxx::connection> main);

  std::string Table() const;  // quoted schema.table
  std::string Fence() const;  // quoted schema.table_fence
  // Read()'s query with the highest token taken from `token_source`; throws
  // libpqxx's exceptions (Read translates them).
  StatusOr<StoreState> ReadWith(pqxx::nontransaction& tx, const std::string& token_source);
  std::string Prelude(const ExecOptions& options) const;
  // One statement: the fence row (locked, with a token) and the version's
  // recorded state, under a lock wait that is always bounded.
  std::string FenceCheck(const SourceMigration& m, const ExecOptions& options) const;
  // The verdict on FenceCheck's row: kDone to go on, else why not.
  ExecResult Verdict(const pqxx::result& r, bool up, const ExecOptions& options) const;
  bool Stopping() const { return options_.stop && options_.stop->load(); }
  // The one translation of a libpqxx exception into a failure: outcome,
  // SQLSTATE, redacted primary message, DETAIL kept apart, where it happened.
  void Failed(const std::exception& e, const std::string& statement, int line,
              ExecResult* res) const;
  StatusOr<pqxx::connection*> FenceConnection();
  ExecResult RunTransactional(const SourceMigration& m, bool up, const ExecOptions& options);
  ExecResult RunOutsideTransaction(const SourceMigration& m, bool up, const ExecOptions& options);
  Status Exec(const std::string& sql, const char* what);

  ConnInfo conn_;
  PgStoreOptions options_;
  std::unique_ptr<pqxx::connection> main_;
  std::unique_ptr<pqxx::connection> lock_conn_;
  std::mutex cancel_mu_;                          // guards fence_conn_ against Cancel()
  std::unique_ptr<pqxx::connection> fence_conn_;  // no-transaction files with a token
  bool locked_ = false;
  int64_t lock_key_ = 0;
};

}  // namespace sg::migrate
