// Runner: the verbs of `schemagate migrate` (up, down, status, validate, plan,
// baseline, repair) over a MigrationStore. It decides; the store executes.
//
// Guarantees: each migration runs at most once per successful record; a lock
// timeout (SQLSTATE 55P03) is retried with backoff a bounded number of times;
// nothing waits unboundedly (the runner lock is polled until --lock-wait);
// with a fencing token the run first takes the fence (raises it to its
// token, waiting for a migration of an older run in flight), re-reads what
// is applied, and applies nothing once a higher token is recorded; a version
// found applied under the fence is skipped, never run twice. When `stop`
// turns true (SIGTERM) the store cancels, the migration rolls back and the
// verb ends with kInterrupted.
//
// Thread-safety: not thread-safe. Ownership: borrows the store, the clock and
// the progress callback, which must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "migrate/report.h"
#include "migrate/source.h"
#include "migrate/store.h"

namespace sg::migrate {

enum class LockMode { kAdvisory, kNone };

struct RunnerOptions {
  std::optional<std::chrono::milliseconds> lock_timeout = std::chrono::seconds(5);
  std::optional<std::chrono::milliseconds> statement_timeout;
  int lock_retries = 5;  // extra attempts after a lock timeout or deadlock
  std::chrono::milliseconds retry_backoff = std::chrono::seconds(1);  // doubles, capped at 30s
  LockMode lock = LockMode::kAdvisory;
  std::chrono::milliseconds lock_wait = std::chrono::minutes(2);
  bool allow_out_of_order = false;
  int64_t fence_token = 0;                  // 0: none (the runner lock serialises instead)
  const std::atomic<bool>* stop = nullptr;  // borrowed; see the file comment
  // PostgreSQL's DETAIL of a failed statement (row values) to progress
  // (stderr), never to the report.
  bool verbose_errors = false;
};

struct Outcome {
  ExitCode code = ExitCode::kOk;
  Json report;  // always an object with "command", "ok", "exit_code"
};

class Runner {
 public:
  using Progress = std::function<void(const std::string&)>;

  Runner(MigrationStore* store, Clock* clock, RunnerOptions options, Progress progress);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  Outcome Up(const Source& source, std::optional<int64_t> target);
  Outcome Down(const Source& source, std::optional<int64_t> to, std::optional<int> steps,
               bool all = false);
  Outcome Status(const Source& source);
  Outcome Validate(const Source& source);
  Outcome Plan(const Source& source, std::optional<int64_t> target);
  Outcome Baseline(const Source& source, int64_t version);
  Outcome Repair();

 private:
  class LockGuard;

  Outcome Fail(Outcome out, ExitCode code, const std::string& message,
               std::string reason = "") const;
  // Loads the state and rejects unfinished records (unless `defer_unfinished`:
  // read without the lock and the fence, a `running` record may be another
  // live run's no-transaction file, judged only once we hold both) and
  // drift; fills `out`.
  bool CheckState(const Source& source, StoreState* state, Outcome* out, bool allow_out_of_order,
                  bool defer_unfinished = false);
  bool AcquireLock(Outcome* out);
  // With a token: raises the fence, retrying while another run's migration
  // holds it, until --lock-wait. False (and `out` failed) when fenced out.
  bool TakeFence(Outcome* out);
  // Sleeps up to `d`, in slices, unless stopping; false when stopping.
  bool Nap(Clock::Duration d);
  bool Stopping() const { return options_.stop && options_.stop->load(); }
  Outcome Interrupted(Outcome out, const std::string& where) const;
  // Runs one migration with bounded retries; false (and `out` failed) on error.
  bool Execute(const SourceMigration& m, bool up, Outcome* out);
  void NeedsRepairError(const AppliedRecord& r, const std::string& file, Outcome* out);

  MigrationStore* store_;
  Clock* clock_;
  RunnerOptions options_;
  Progress progress_;
};

}  // namespace sg::migrate
