// PgStore: MigrationStore on PostgreSQL through libpqxx. The adapter: every
// pqxx exception stops here and becomes a Status or an ExecResult.
//
// Tables (names configurable): <schema>.<table> holds one row per version;
// <schema>.<table>_fence holds the highest fencing token any run presented.
// The runner lock is a session-level pg_try_advisory_lock on a dedicated
// connection, polled by the runner, never a blocking wait (a blocked waiter
// holds a snapshot that CREATE INDEX CONCURRENTLY would wait for: deadlock).
//
// Round trips: Read is one query; a transactional migration of N statements
// costs N + 2 (BEGIN+settings+fence, the statements, record+COMMIT), as psql
// with BEGIN/COMMIT around the file.
//
// Thread-safety: not thread-safe. Ownership: owns both connections.
#pragma once

#include <memory>
#include <pqxx/connection>
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

  // The advisory lock key derived from schema and table (so runs against
  // different tracking tables in one database do not serialise).
  int64_t lock_key() const { return lock_key_; }

 private:
  PgStore(const ConnInfo& conn, PgStoreOptions options, std::unique_ptr<pqxx::connection> main);

  std::string Table() const;  // quoted schema.table
  std::string Fence() const;  // quoted schema.table_fence
  std::string Prelude(const ExecOptions& options) const;
  std::string FenceUpsert(int64_t token) const;
  ExecResult RunTransactional(const SourceMigration& m, bool up, const ExecOptions& options);
  ExecResult RunOutsideTransaction(const SourceMigration& m, bool up, const ExecOptions& options);
  Status Exec(const std::string& sql, const char* what);

  ConnInfo conn_;
  PgStoreOptions options_;
  std::unique_ptr<pqxx::connection> main_;
  std::unique_ptr<pqxx::connection> lock_conn_;
  bool locked_ = false;
  int64_t lock_key_ = 0;
};

}  // namespace sg::migrate
