// Liveness: the controller's /healthz answer beyond "the process serves
// HTTP". Fails when a reconcile worker is wedged (one reconcile has been
// running longer than max_reconcile: every API call it makes is bounded, so
// this means a hang or a deadlock) or an informer stopped making progress
// (its watch loop has not completed a step, or one handler call has been
// running, for longer than max_informer_silence; a healthy watch ends and
// is re-opened at least every 10 min). The kubelet then restarts the pod;
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

  // OK, or kUnavailable naming the worker's key or the informer and how long.
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
};

}  // namespace sg::controller
