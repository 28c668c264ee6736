// LeaseClaim: one holder's view of one lease, advanced one non-blocking step
// at a time. It is client-go's tryAcquireOrRenew with its observed-record
// cache, usable both inside LeaderElector (the controller's own election) and
// directly from a reconcile loop for many named locks (one per database) with
// no thread per lock.
//
// Algorithm of TryAcquireOrRenew (client-go leaderelection.go):
//   1. If we hold it and it is still valid locally: Update with the cached
//      resourceVersion (keeps acquireTime and leaseTransitions). Success ends
//      the step; any error falls through to the slow path.
//   2. Get. NotFound -> Create {holder=self, acquireTime=renewTime=now}.
//   3. If the record differs from the last one seen, remember it with
//      observedTime = LOCAL monotonic now. If another holder is named and
//      observedTime + its leaseDurationSeconds is still ahead -> not ours.
//      Expiry therefore never reads the remote renewTime: it tolerates clock
//      skew between machines (not different clock rates).
//   4. Update with the Get's resourceVersion: renewing keeps acquireTime and
//      leaseTransitions; a takeover sets acquireTime=now and increments
//      leaseTransitions. A concurrent writer makes this a kConflict.
//
// Holding is bounded by the renew deadline: Held() is true only until
// RenewDeadline after the START of the last successful write, on the local
// monotonic clock, whether or not a renew is in flight. So a request that
// hangs cannot keep us acting: each request is given max(RenewDeadline/2, 1s),
// capped at the time left, and Held() turns false on its own at the deadline.
// (client-go counts the deadline from the start of a renew round, one
// RetryPeriod later, so this is the stricter of the two.) Another candidate
// can take over only LeaseDuration after it observed our last write, and
// LeaseDuration > RenewDeadline keeps the two tenures apart.
//
// A renew that succeeds after Held() lapsed (but within LeaseDuration)
// resumes the same tenure with the same token: the optimistic update only
// succeeds if nobody else wrote the lease in between. Work must still not
// act while Held() is false.
//
// Fencing: while Held(), FencingToken() is the lease's leaseTransitions,
// which increases with every change of holder (including re-acquiring after
// a release) and stays fixed while one holder renews. Pass it to the work
// and make the work reject older tokens.
//
// Identity must be unique per process (e.g. pod name + random suffix): a
// record naming our identity is treated as ours, as in client-go.
//
// Thread-safety: TryAcquireOrRenew and Release serialise with each other
// (never run them on two threads expecting parallelism); the accessors are
// safe from any thread at any time, including during a step.
// Ownership: owns its LeaseLock; borrows the Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/lease/lease_lock.h"

namespace sg::kube {

struct LeaseTimings {
  Clock::Duration lease_duration = std::chrono::seconds(15);
  Clock::Duration renew_deadline = std::chrono::seconds(10);
  Clock::Duration retry_period = std::chrono::seconds(2);

  // LeaseDuration > RenewDeadline > 1.2 x RetryPeriod > 0, and LeaseDuration
  // a whole number of seconds (leaseDurationSeconds is an integer).
  Status Validate() const;
  // The per-request timeout: max(RenewDeadline / 2, 1 s).
  Clock::Duration RequestTimeout() const;
};

class LeaseClaim {
 public:
  // Validates `timings` and `identity` (non-empty).
  static StatusOr<std::unique_ptr<LeaseClaim>> New(std::unique_ptr<LeaseLock> lock,
                                                   std::string identity, LeaseTimings timings,
                                                   Clock* clock);
  LeaseClaim(const LeaseClaim&) = delete;
  LeaseClaim& operator=(const LeaseClaim&) = delete;

  // One attempt. true: we hold the lease now (acquired or renewed).
  // false: another holder's lease is still valid (see ObservedHolder()).
  // Error: the attempt failed (API error, kConflict when another candidate
  // wrote first, kTimeout); Held() keeps its time-bounded meaning.
  StatusOr<bool> TryAcquireOrRenew();

  // Gives the lease up if we hold it: holder "", leaseDurationSeconds 1, so
  // another candidate can take it on its next try. OK if we did not hold it.
  Status Release();

  // We hold the lease and the renew deadline of the last success has not
  // passed on the local clock.
  bool Held() const;
  // leaseTransitions of our tenure while Held(); nullopt otherwise.
  std::optional<int32_t> FencingToken() const;
  // Holder named by the last record seen ("" = free or never seen).
  std::string ObservedHolder() const;
  int32_t ObservedTransitions() const;
  // When Held() turns false unless a renew succeeds first.
  Clock::TimePoint HeldUntil() const;
  // When the next step is due: one RetryPeriod after the last one started
  // (callers add jitter). Requeue the owning object for then.
  Clock::TimePoint NextAttemptAt() const;

  const std::string& identity() const { return identity_; }
  const LeaseTimings& timings() const { return timings_; }
  std::string Describe() const { return lock_->Describe(); }

 private:
  LeaseClaim(std::unique_ptr<LeaseLock> lock, std::string identity, LeaseTimings timings,
             Clock* clock);

  StatusOr<bool> StepLocked(Clock::TimePoint start);
  // Timeout for the next request: the base, capped by the time still held.
  Clock::Duration CallTimeout() const;
  void Observe(const ObservedLease& lease);
  void Succeeded(const ObservedLease& lease, Clock::TimePoint start);
  bool IsLeaderLocked() const;
  bool ValidLocked(Clock::TimePoint now) const;

  const std::unique_ptr<LeaseLock> lock_;
  const std::string identity_;
  const LeaseTimings timings_;
  Clock* const clock_;

  std::mutex step_mu_;  // serialises steps; never held by accessors
  mutable std::mutex mu_;
  std::optional<LeaseRecord> observed_;
  std::string observed_rv_;
  Clock::TimePoint observed_time_{};
  Clock::TimePoint held_until_{};
  Clock::TimePoint last_attempt_{};
};

}  // namespace sg::kube
