// Watcher: keeps a consumer in step with a set of objects by list-then-watch,
// written as an explicit state machine (State + Step(), after kube-rs's
// watcher) so every transition can be unit-tested on a FakeClock.
//
// States and transitions:
//   kListing    list one page (limit page_size, following continue); when
//               the last page arrives emit kRestarted with the COMPLETE set
//               (the consumer replaces its cache) -> kListed(rv).
//               A failure backs off and restarts the list from page one;
//               an expired continue token (410) restarts it at once.
//   kListed     open a watch from rv (allowWatchBookmarks, timeoutSeconds
//               random in [min,max] so many watchers do not expire
//               together) -> kWatching. 410 -> kListing; other failures back
//               off and retry from rv.
//   kWatching   take one event: ADDED/MODIFIED -> emit kApplied; DELETED ->
//               emit kDeleted; BOOKMARK -> just remember its rv. Every event
//               advances rv. A normal end of stream -> kListed (re-watch
//               from the last rv, no backoff). 410 (HTTP or ERROR event with
//               code 410) -> kListing at once. Other ERROR events -> kListing
//               after backoff (client-go re-lists). Connection errors ->
//               kListed after backoff (resume from rv).
// Backoff: 800 ms doubling to 30 s, each delay stretched by up to `jitter`;
// reset after a successful list or a watch that delivered an event.
//
// Step() never sleeps: while backing off it returns `wait` (the time left)
// and does nothing else, so a test advances its FakeClock by it. Run() loops
// Step(), waiting out backoffs with Clock::WaitUntil (interrupted by
// Cancel()) until cancelled.
//
// Liveness: LastStep() is when the last Step() returned (construction time
// before the first). A healthy watcher steps at least once per watch
// timeout (max_watch_timeout) plus a backoff; a much older LastStep() means
// it is stuck (e.g. in a read that never returns).
//
// Thread-safety: one thread calls Step()/Run(); Cancel(), cancelled() and
// LastStep() may be called from any thread (Step() blocked in a watch
// returns kCancelled).
// Ownership: `lw` and `clock` must outlive the Watcher.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "kube/transport/cancellation.h"
#include "kube/watch/lister_watcher.h"

namespace sg::kube {

struct WatcherEvent {
  enum class Type { kRestarted, kApplied, kDeleted };
  Type type = Type::kApplied;
  std::vector<nlohmann::json> objects;  // kRestarted: the complete set
  nlohmann::json object;                // kApplied / kDeleted
};

struct WatcherOptions {
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;
  bool allow_bookmarks = true;
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds max_watch_timeout{600};
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{30'000};
  double jitter = 0.2;     // delay * [1, 1 + jitter)
  std::uint64_t seed = 0;  // 0 = random
  // Applied to every listed and watched object before it is kept or emitted
  // (client-go's TransformFunc): drops what the consumer never reads, so a
  // page of large objects is shrunk before the next page arrives. Must keep
  // metadata.name, metadata.namespace and metadata.resourceVersion.
  std::function<void(nlohmann::json&)> transform;
};

class Watcher {
 public:
  enum class State { kListing, kListed, kWatching };

  struct StepResult {
    std::optional<WatcherEvent> event;
    // Non-OK when this step observed a failure (already scheduled for retry
    // with backoff). kCancelled means Cancel() was called.
    Status error;
    // > 0 when nothing was done because the watcher is backing off.
    Clock::Duration wait{0};
  };

  Watcher(ListerWatcher* lw, Clock* clock, WatcherOptions options = {});
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  StepResult Step();

  // Calls `on_event` for each event and `on_error` (may be null) for each
  // failure until Cancel(); returns kCancelled then.
  Status Run(const std::function<void(const WatcherEvent&)>& on_event,
             const std::function<void(const Status&)>& on_error = nullptr);

  void Cancel() { cancel_.Cancel(); }
  bool cancelled() const { return cancel_.cancelled(); }

  State state() const { return state_; }
  Clock::TimePoint LastStep() const { return Clock::TimePoint(Clock::Duration(last_step_.load())); }
  const std::string& resource_version() const { return rv_; }
  // The backoff that the next failure will use (for tests and metrics).
  Clock::Duration next_backoff() const;

 private:
  StepResult StepOnce();
  StepResult StepListing();
  StepResult StepListed();
  StepResult StepWatching();
  StepResult Fail(Status error, State next);
  void ResetBackoff() { failures_ = 0; }

  ListerWatcher* const lw_;
  Clock* const clock_;
  const WatcherOptions options_;
  Cancellation cancel_;
  std::mt19937_64 rng_;

  State state_ = State::kListing;
  std::string rv_;
  std::string continue_;
  std::vector<nlohmann::json> pending_;  // pages listed so far
  std::unique_ptr<WatchStream> stream_;
  int failures_ = 0;
  Clock::TimePoint not_before_{};
  std::atomic<Clock::Duration::rep> last_step_{0};
};

}  // namespace sg::kube
