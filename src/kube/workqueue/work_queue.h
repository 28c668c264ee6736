// WorkQueue: the controller's queue of object keys ("namespace/name").
//
// Guarantees (as client-go's workqueue):
// - Deduplicated: a key added several times before a worker takes it is
//   handed out once.
// - Never concurrent: a key taken by Get is "processing" until Done; adding
//   it meanwhile marks it dirty and it is handed out again after Done, so two
//   workers never reconcile the same object at once and no change is lost.
// - Delayed adds (AddAfter) and rate-limited re-adds (AddRateLimited: the
//   RateLimiter's per-item backoff and overall bucket) wait on the injected
//   Clock; the earliest requested time wins for a key already waiting.
// - ShutDown: new adds are ignored, pending delayed adds are dropped, Get
//   keeps handing out what is already queued and then returns nullopt.
//   ShutDownWithDrain additionally blocks until every in-flight key is Done.
//
// Delayed keys are promoted by whichever call looks first (Get, Len, Add):
// there is no timer thread, so a FakeClock::Advance followed by Len or Get
// observes the promotion deterministically.
//
// Thread-safety: every method is thread-safe; Get blocks.
// Ownership: owns its RateLimiter; the Clock must outlive the queue. Shut
// the queue down and join the workers before destroying it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "common/clock.h"
#include "kube/workqueue/rate_limiter.h"

namespace sg::kube {

class WorkQueue {
 public:
  // `limiter` null means DefaultControllerRateLimiter(clock).
  explicit WorkQueue(Clock* clock, std::unique_ptr<RateLimiter> limiter = nullptr);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` now (no-op when already queued or shutting down).
  void Add(const std::string& key);
  // Queues `key` once `delay` has passed on the clock (<= 0: at once).
  void AddAfter(const std::string& key, Clock::Duration delay);
  // AddAfter with the rate limiter's delay; counts a requeue of `key`.
  void AddRateLimited(const std::string& key);
  // Clears the backoff history of `key` (call after a success).
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);

  // Blocks for the next key; nullopt once shut down and empty. The caller
  // must call Done(key) when finished with it.
  std::optional<std::string> Get();
  // Like Get, but gives up (nullopt) at `deadline` on the queue's clock.
  std::optional<std::string> GetUntil(Clock::TimePoint deadline);
  void Done(const std::string& key);

  // Keys ready to be handed out (the work backlog, for metrics).
  size_t Len();
  // Keys waiting for their delay to pass / currently being processed.
  size_t NumWaiting();
  size_t NumProcessing();

  void ShutDown();
  // ShutDown, then waits until no key is processing. Returns false if
  // `deadline` passed first.
  bool ShutDownWithDrain(Clock::TimePoint deadline = Clock::TimePoint::max());
  bool ShuttingDown();

 private:
  void AddLocked(const std::string& key);
  void PromoteReadyLocked();
  std::optional<std::string> GetLocked(std::unique_lock<std::mutex>& lock,
                                       std::optional<Clock::TimePoint> deadline);

  Clock* const clock_;
  const std::unique_ptr<RateLimiter> limiter_;

  std::mutex mu_;
  std::condition_variable cv_;                       // signals new items / shutdown
  std::condition_variable drained_;                  // signals processing_ became empty
  std::deque<std::string> queue_;                    // order of hand-out; entries unique
  std::set<std::string> dirty_;                      // needs processing (queued or re-added)
  std::set<std::string> processing_;                 // handed out, not Done yet
  std::map<std::string, Clock::TimePoint> waiting_;  // key -> ready at
  std::set<std::pair<Clock::TimePoint, std::string>> timers_;  // ordered view
  bool shutting_down_ = false;
};

}  // namespace sg::kube
