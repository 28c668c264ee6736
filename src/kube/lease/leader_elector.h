// LeaderElector: client-go's leader election loop on a LeaseClaim.
//
// Run() blocks: it tries to acquire every RetryPeriod (+ up to 1.2 x
// RetryPeriod of jitter) until it holds the lease, calls OnStartedLeading,
// then renews every RetryPeriod. When renewing has not succeeded within
// RenewDeadline (LeaseClaim::Held() turned false) it calls OnStoppedLeading
// and returns kFailedPrecondition ("lost leadership"); the process should
// then stop its work (usually exit), as with client-go. That happens no
// later than LeaseClaim::HeldUntil() of the last renewal, even when every
// request hangs (a renew step is bounded by it, see lease_claim.h), so
// strictly before a standby may take over (LeaseDuration after it saw that
// renewal). Stop() makes Run()
// release the lease (if release_on_stop: holder "", leaseDurationSeconds 1,
// so a standby takes over on its next try) and return OK.
//
// Callbacks run on the thread that called Run() and must return promptly
// (start or signal the real work; do not run it inside the callback):
//   on_started_leading(fencing_token)  we became leader (token >= 1, see
//                                      LeaseClaim::FencingToken)
//   on_stopped_leading()               we were leader and no longer are
//   on_new_leader(identity)            the observed holder changed ("" = free)
// IsLeader()/FencingToken() are time-bounded by the renew deadline and safe
// from any thread: the work should check them before acting.
//
// Thread-safety: Run() on one thread at a time; Stop() and the accessors
// from any thread. Ownership: owns its LeaseClaim (and thus the lock);
// borrows the Clock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/lease/lease_claim.h"

namespace sg::kube {

struct LeaderCallbacks {
  std::function<void(int64_t fencing_token)> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
};

struct LeaderElectorConfig {
  std::string identity;
  LeaseTimings timings;
  bool release_on_stop = true;
  LeaderCallbacks callbacks;
  // Uniform in [0, 1) for retry jitter; default: a seeded PRNG. Tests pass
  // a constant to make waits exact.
  std::function<double()> random;
};

class LeaderElector {
 public:
  static StatusOr<std::unique_ptr<LeaderElector>> New(std::unique_ptr<LeaseLock> lock,
                                                      LeaderElectorConfig config, Clock* clock);
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // See the file comment. OK after Stop() (or the error of the release
  // write, after which the lease simply expires); kFailedPrecondition when
  // leadership was lost (carrying the last renew error).
  Status Run();
  // Asks Run() to return (releasing the lease if leading). Idempotent.
  void Stop();

  bool IsLeader() const { return claim_->Held(); }
  std::optional<int64_t> FencingToken() const { return claim_->FencingToken(); }
  std::string CurrentLeader() const { return claim_->ObservedHolder(); }
  const LeaseClaim& claim() const { return *claim_; }

 private:
  LeaderElector(std::unique_ptr<LeaseClaim> claim, LeaderElectorConfig config, Clock* clock);

  // Waits until `t` on the clock or Stop(); false if stopped.
  bool SleepUntil(Clock::TimePoint t);
  bool Stopped();
  void ReportLeader();

  const std::unique_ptr<LeaseClaim> claim_;
  LeaderElectorConfig config_;
  Clock* const clock_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::optional<std::string> reported_leader_;  // Run()'s thread only
};

}  // namespace sg::kube
