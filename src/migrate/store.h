// MigrationStore: the seam between the runner's decisions and the database
// that holds the schema and its tracking table. PgStore (pg_store.h) is the
// real one; the runner never sees libpqxx.
//
// Thread-safety: not thread-safe; one runner drives one store (except
// Cancel(), from any thread).
// Ownership: a store owns its connections and closes them on destruction.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "migrate/record.h"
#include "migrate/source.h"

namespace sg::migrate {

struct StoreState {
  bool table_exists = false;
  std::vector<AppliedRecord> records;  // ascending by version
  int64_t fence_token = 0;             // highest fencing token recorded, 0 if none
};

struct ExecOptions {
  std::optional<std::chrono::milliseconds> lock_timeout;
  std::optional<std::chrono::milliseconds> statement_timeout;
  // >= 1: the run's fencing token (see TakeFence). 0 only for a run that
  // holds the runner lock instead (the command line refuses --lock=none
  // without a token).
  int64_t fence_token = 0;
};

// Why a statement failed, as PostgreSQL said it.
struct SqlFailure {
  std::string sqlstate;
  std::string message;
  std::string statement;
  int line = 0;             // line of the statement in its file
  int statements_done = 0;  // statements that ran before it
  // PostgreSQL's DETAIL line: may hold row values, so it never goes into the
  // report; printed on stderr with --verbose-errors only.
  std::string detail;
};

enum class ExecOutcome {
  kDone,
  kSqlError,        // see failure; a transactional change was rolled back
  kFenced,          // the fence names another token: nothing was done
  kConnectionLost,  // see failure.message
  kAlreadyDone,     // re-read under the fence: another run applied (reverted) it
};

struct ExecResult {
  ExecOutcome outcome = ExecOutcome::kDone;
  SqlFailure failure;
  int64_t execution_ms = 0;
  // A no-transaction script stopped part-way: its record says failed (or it
  // could not be written) and a human must look before anything else runs.
  bool needs_repair = false;
};

class MigrationStore {
 public:
  virtual ~MigrationStore() = default;

  // The tracking table's contents; table_exists=false (and nothing else) when
  // it has not been created. A constant number of round trips.
  virtual StatusOr<StoreState> Read() = 0;
  // Creates the schema, tracking and fence tables when missing.
  virtual Status EnsureTables() = 0;

  // One non-blocking attempt at the runner lock (session-level, on its own
  // connection). Unlock releases it; both are no-ops when already so.
  virtual StatusOr<bool> TryLock() = 0;
  virtual Status Unlock() = 0;
  // Who holds the runner lock, for diagnostics ("" when unknown).
  virtual std::string DescribeLockHolder() = 0;

  // Raises the fence to `token` (committed on its own) unless a higher token
  // is recorded: kDone (the fence is ours), kFenced, or kSqlError with
  // SQLSTATE 55P03 when a migration of another run holds the fence row
  // longer than the (always bounded) lock wait: the caller retries.
  virtual ExecResult TakeFence(int64_t token, const ExecOptions& options) = 0;

  // Runs `m`'s up script and records it: in one transaction with its tracking
  // row, or (no-transaction files) statement by statement with a record that
  // says running, then applied or failed. With a fencing token the fence row
  // is locked and compared first, for the whole transaction (no-transaction
  // files: for the whole file, on a second session), and the version's record
  // is re-read under that lock, so a run that planned from an older read
  // never applies a version twice.
  virtual ExecResult Apply(const SourceMigration& m, const ExecOptions& options) = 0;
  // Runs `m`'s down script and deletes its record, likewise.
  virtual ExecResult Revert(const SourceMigration& m, const ExecOptions& options) = 0;

  // Records `migrations` as applied without running them.
  virtual Status Baseline(const std::vector<const SourceMigration*>& migrations) = 0;
  // Deletes failed and interrupted records; returns their versions.
  virtual StatusOr<std::vector<int64_t>> ClearUnfinished() = 0;
  // Indexes PostgreSQL marks INVALID (a failed CREATE INDEX CONCURRENTLY leaves one).
  virtual std::vector<std::string> InvalidIndexes() = 0;

  // The one call that is safe from another thread (the signal thread): asks
  // the server to cancel whatever statement runs now. The run then fails
  // and rolls back as after any error.
  virtual void Cancel() = 0;
};

}  // namespace sg::migrate
