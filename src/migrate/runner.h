// Runner: the verbs of `schemagate migrate` (up, down, status, validate, plan,
// baseline, repair) over a MigrationStore. It decides; the store executes.
//
// Guarantees: each migration runs at most once per successful record; a lock
// timeout (SQLSTATE 55P03) is retried with backoff a bounded number of times;
// nothing waits unboundedly (the runner lock is polled until --lock-wait);
// with a fencing token, nothing is applied once a higher token is recorded.
//
// Thread-safety: not thread-safe. Ownership: borrows the store, the clock and
// the progress callback, which must outlive it.
#pragma once

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
  int64_t fence_token = 0;
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
  Outcome Down(const Source& source, std::optional<int64_t> to, std::optional<int> steps);
  Outcome Status(const Source& source);
  Outcome Validate(const Source& source);
  Outcome Plan(const Source& source, std::optional<int64_t> target);
  Outcome Baseline(const Source& source, int64_t version);
  Outcome Repair();

 private:
  class LockGuard;

  Outcome Fail(Outcome out, ExitCode code, const std::string& message,
               std::string reason = "") const;
  // Loads the state and rejects unfinished records and drift; fills `out`.
  bool CheckState(const Source& source, StoreState* state, Outcome* out, bool allow_out_of_order);
  bool AcquireLock(Outcome* out);
  // Runs one migration with bounded retries; false (and `out` failed) on error.
  bool Execute(const SourceMigration& m, bool up, Outcome* out);
  void NeedsRepairError(const AppliedRecord& r, const std::string& file, Outcome* out);

  MigrationStore* store_;
  Clock* clock_;
  RunnerOptions options_;
  Progress progress_;
};

}  // namespace sg::migrate
