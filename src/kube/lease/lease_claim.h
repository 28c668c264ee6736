// LeaseClaim: one holder's view of one lease, advanced one non-blocking step
// at a time. It is client-go's tryAcquireOrRenew with its observed-record
// cache, usable both inside LeaderElector (the controller's own election) and
// directly from a reconcile loop for many named locks (one per database) with
// no thread per lock.
//
// Algorithm of TryAcquireOrRenew (client-go leaderelection.go, except that
// a Lease is never created with a holder, see "Fencing"):
//   1. If we hold it and it is still valid locally: Update with the cached
//      resourceVersion (keeps acquireTime, leaseTransitions and the token).
//      Success ends the step; any error falls through to the slow path.
//   2. Get. NotFound -> Create it FREE (holder ""), or on kAlreadyExists
//      (someone created it first) Get again; go on with that object.
//   3. If the record differs from the last one seen, remember it with
//      observedTime = LOCAL monotonic now. If another holder is named and
//      observedTime + its leaseDurationSeconds is still ahead -> not ours.
//      Expiry therefore never reads the remote renewTime: it tolerates clock
//      skew between machines (not different clock rates).
//   4. Update with the Get's resourceVersion: renewing keeps acquireTime,
//      leaseTransitions and the token; a takeover (a free Lease included)
//      sets acquireTime=now, increments leaseTransitions and writes a new
//      token. A concurrent writer makes this a kConflict.
//
// Holding is bounded by the renew deadline: Held() is true only until
// RenewDeadline after the START of the last successful write, on the local
// monotonic clock, whether or not a renew is in flight. A step that starts
// while Held() is bounded AS A WHOLE by that held-until time: each request
// gets min(max(RenewDeadline/2, 1s), held-until - now), and once nothing is
// left the step returns kTimeout without sending another request. So
// TryAcquireOrRenew (and with it LeaderElector's "stopped leading") returns
// by held-until even when every request hangs, strictly before another
// candidate may take over: that needs LeaseDuration after it observed our
// last write, and LeaseDuration > RenewDeadline. (client-go counts the
// deadline from the start of a renew round, one RetryPeriod later, so this
// is the stricter of the two.) Without the bound, a round started just
// before the deadline could give its fallback Get and Update the full
// timeout each and return ~20 s after the last write with 15/10/2 s.
//
// A step that starts after Held() lapsed is an attempt like an acquire
// (full request timeouts); if it succeeds within LeaseDuration it resumes
// the same tenure with the same token: the optimistic update only succeeds
// if nobody else wrote the lease in between. Work must not act while
// Held() is false.
//
// Fencing: FencingToken() is a number that only grows from one tenure (a
// change of holder, including re-acquiring after a Release) to the next,
// also across a deleted and recreated Lease, and stays fixed while one
// holder renews. It is derived from the API server's resourceVersion
// (etcd's revision: one integer for the whole cluster that grows with every
// write, a deletion included) and stored on the Lease in the annotation
// schemagate.dev/fencing-token, written by the same Update that begins the
// tenure. That Update is optimistic, so its base resourceVersion r_prev is
// the Lease's current one; the token is r_prev + 1 (or, if the Lease
// carries a greater token from elsewhere, e.g. restored from a backup, that
// plus one). Why it only grows:
//   - our write gets r_ours > r_prev, so token <= r_ours;
//   - the next tenure's Update is based on the object we wrote or a later
//     version of it: r_next >= r_ours, so its token r_next + 1 > r_ours >=
//     our token;
//   - a Lease deleted and recreated gets revisions above every revision of
//     the deleted one (the deletion is itself a write).
// Hence a Lease is created free and then taken over by an ordinary Update,
// so even the first holder's token (>= 2) comes from a known base; token 0
// (which means "no fencing" to the runner) is never produced. A held Lease
// without a token (written by a version whose tokens were leaseTransitions,
// which are below the Lease's resourceVersion: each transition was a write
// of its own) gets one, its read resourceVersion + 1, on the next renewal;
// until then FencingToken() is nullopt. A resourceVersion that is not a
// positive decimal integer makes the step fail with kInternal (naming the
// lease) before anything is written, never a silent 0. Pass the token to
// the work and make the work reject older tokens. (resourceVersions are
// ordered within one etcd only: restoring etcd from an older snapshot can
// make tokens go backwards, which the work then refuses as fenced.)
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
  // Our tenure's token (see "Fencing") while Held(); nullopt otherwise, or
  // while the Lease has no token yet.
  std::optional<int64_t> FencingToken() const;
  // Holder named by the last record seen ("" = free or never seen).
  std::string ObservedHolder() const;
  int32_t ObservedTransitions() const;
  // When Held() turns false unless a renew succeeds first.
  Clock::TimePoint HeldUntil() const;
  // When the last successful acquire or renew started, while the last
  // record seen names us (Held() or not); nullopt otherwise. A leader whose
  // value stops moving is wedged (the /healthz watchdog).
  std::optional<Clock::TimePoint> RenewedAt() const;
  // When the next step is due: one RetryPeriod after the last one started
  // (callers add jitter). Requeue the owning object for then.
  Clock::TimePoint NextAttemptAt() const;

  const std::string& identity() const { return identity_; }
  const LeaseTimings& timings() const { return timings_; }
  std::string Describe() const { return lock_->Describe(); }

 private:
  LeaseClaim(std::unique_ptr<LeaseLock> lock, std::string identity, LeaseTimings timings,
             Clock* clock);

  // `bound`: held-until when the step started while Held(), else nullopt.
  StatusOr<bool> StepLocked(Clock::TimePoint start, std::optional<Clock::TimePoint> bound);
  // Timeout for the next request: the base, capped by `bound`; kTimeout
  // (carrying `last`, the step's previous error) once `bound` has passed.
  StatusOr<Clock::Duration> CallTimeout(std::optional<Clock::TimePoint> bound,
                                        const Status& last) const;
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
  std::optional<Clock::TimePoint> renewed_at_;
  Clock::TimePoint last_attempt_{};
};

}  // namespace sg::kube
