// Liveness: the controller's /healthz answer beyond "the process serves
// HTTP". Fails when a reconcile worker is wedged (one reconcile has been
// running longer than max_reconcile: every API call it makes is bounded, so
// this means a hang or a deadlock) or an informer stopped making progress
// (its watch loop has not completed a step, or one handler call has been
// running, for longer than max_informer_silence; a healthy watch ends and
// is re-opened at least every 10 min), or this process leads but has not
// renewed its leadership Lease for longer than leaseDuration x (1 +
// leader_renew_tolerance) (client-go's HealthzAdaptor: the elector is
// wedged, e.g. a request that ignores its timeout, so nothing stops the
// workers; a standby may already lead). The kubelet then restarts the pod;
// a standby replica takes over meanwhile.
//
// Thread-safety: every method from any thread (workers report, the HTTP
// server's threads Check()). Ownership: borrows the Clock; progress
// functions are called under the lock, so they must be cheap and must not
// call back into Liveness.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace sg::controller {

struct LivenessOptions {
  Clock::Duration max_reconcile = std::chrono::minutes(5);
  Clock::Duration max_informer_silence = std::chrono::minutes(15);
  // Slack beyond leaseDuration for the leader Lease's renewal, as a fraction
  // of leaseDuration: a renewal is late only once the Lease has expired for
  // everybody else, and the probe must not restart a leader for one slow
  // renew round.
  double leader_renew_tolerance = 0.2;
};

class Liveness {
 public:
  // When the source last made progress; nullopt = cannot tell (not checked).
  using ProgressFn = std::function<std::optional<Clock::TimePoint>()>;

  Liveness(Clock* clock, LivenessOptions options) : clock_(clock), options_(options) {}
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // A worker took `key` / is done with it.
  void Started(int worker, const std::string& key);
  void Finished(int worker);
  // Replaces the watched informers (name -> progress); empty while not
  // leading (no informers run).
  void SetInformers(std::vector<std::pair<std::string, ProgressFn>> informers);
  // Watches the leadership Lease `lease` ("namespace/name") of duration
  // `lease_duration`: `renewed_at` is when we last renewed it while we lead,
  // nullopt while we do not (standing by, released, taken over: then it is
  // not checked). A null `renewed_at` stops watching (leader election off,
  // or the elector is gone).
  void SetLeaderLease(std::string lease, Clock::Duration lease_duration, ProgressFn renewed_at);

  // OK, or kUnavailable naming the worker's key, the informer or the leader
  // Lease, and how long.
  Status Check() const;

 private:
  struct Running {
    std::string key;
    Clock::TimePoint since;
  };
  Clock* const clock_;
  const LivenessOptions options_;
  mutable std::mutex mu_;
  std::map<int, Running> running_;
  std::vector<std::pair<std::string, ProgressFn>> informers_;
  std::string leader_lease_;
  Clock::Duration leader_lease_duration_{0};
  ProgressFn leader_renewed_at_;
};

}  // namespace sg::controller
