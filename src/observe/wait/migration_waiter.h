// WaitForMigration: the loop behind `schemagate wait`. Lists then watches
// ONE SchemaMigration (field selector metadata.name=<name> in its
// namespace) through the kube Watcher: no polling; the watcher resumes from
// the last resourceVersion and re-lists after 410 Gone. After every event
// the pure Decide() (wait_decision.h) says whether we are done.
//
// Outcomes:
//   kReady          Decide() said Ready (at once when it already is)
//   kTimeout        the deadline passed first
//   kStalled        Stalled=True for the current generation and
//                   fail_on_stalled is set (otherwise we keep waiting: a
//                   human may fix the source and the controller recover)
//   kApiRefused     max_api_failures consecutive failures, the last one
//                   401/403/404 (no RBAC for schemamigrations, CRD missing)
//   kApiUnreachable max_api_failures consecutive failures of another kind
//   kCancelled      Cancel() was called
// A missing object is not a failure: we keep watching until it appears.
//
// Progress: `on_progress` is called with every decision whose detail differs
// from the previous one (first sight, condition changes, deletion), and
// `on_api_error` with each failed list/watch attempt (already retried with
// the watcher's backoff: 0.8 s doubling to 30 s).
//
// Thread-safety: Wait() runs on the calling thread and uses one helper thread
// for the deadline; Cancel() may be called from any thread.
// Ownership: `lw` and `clock` must outlive the waiter.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/watch/lister_watcher.h"
#include "kube/watch/watcher.h"
#include "observe/wait/wait_decision.h"

namespace sg::observe {

struct WaitOptions {
  std::string name;  // the lister-watcher is already scoped to the namespace
  WaitCriteria criteria;
  std::optional<Clock::Duration> timeout;  // nullopt: wait forever
  bool fail_on_stalled = false;
  int max_api_failures = 8;      // consecutive; about 2 minutes of backoff
  kube::WatcherOptions watcher;  // backoff/jitter; the field selector is set here
};

enum class WaitOutcome { kReady, kTimeout, kStalled, kApiRefused, kApiUnreachable, kCancelled };

std::string_view WaitOutcomeName(WaitOutcome outcome);

struct WaitResult {
  WaitOutcome outcome = WaitOutcome::kCancelled;
  WaitDecision last;  // the last decision seen (kAbsent if never seen)
  Status last_error;  // for kApiRefused / kApiUnreachable
};

class MigrationWaiter {
 public:
  MigrationWaiter(kube::ListerWatcher* lw, Clock* clock, WaitOptions options);
  MigrationWaiter(const MigrationWaiter&) = delete;
  MigrationWaiter& operator=(const MigrationWaiter&) = delete;

  std::function<void(const WaitDecision&)> on_progress;
  std::function<void(const Status&, int consecutive)> on_api_error;

  WaitResult Wait();
  void Cancel();

 private:
  kube::ListerWatcher* const lw_;
  Clock* const clock_;
  const WaitOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  bool timed_out_ = false;
  kube::Watcher* watcher_ = nullptr;  // set while Wait() runs
};

}  // namespace sg::observe
