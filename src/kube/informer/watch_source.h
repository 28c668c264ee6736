// WatchSource: where an Informer's events come from. The real one runs a
// list-then-watch Watcher (kube/watch/watcher.h) through a ListerWatcher;
// unit tests script the events.
//
// Contract: Run() calls `on_event` (on the calling thread) for each event,
// starting with a kRestarted carrying the complete initial set, and
// `on_error` for each failure the source retries by itself, until Cancel();
// then it returns kCancelled. A re-list after 410 Gone or a broken watch
// arrives as another kRestarted.
//
// Thread-safety: Run() on one thread; Cancel() from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "common/clock.h"
#include "common/status.h"
#include "kube/watch/lister_watcher.h"
#include "kube/watch/watcher.h"

namespace sg::kube {

class WatchSource {
 public:
  using EventFn = std::function<void(const WatcherEvent&)>;
  using ErrorFn = std::function<void(const Status&)>;

  virtual ~WatchSource() = default;
  virtual Status Run(const EventFn& on_event, const ErrorFn& on_error) = 0;
  virtual void Cancel() = 0;
  // When the source last made progress (a step of its loop); nullopt when
  // it does not tell (liveness then ignores it).
  virtual std::optional<Clock::TimePoint> LastProgress() const { return std::nullopt; }
};

// The real source: a Watcher over `lw`.
// Ownership: owns `lw`; borrows the Clock.
class WatcherSource final : public WatchSource {
 public:
  WatcherSource(std::unique_ptr<ListerWatcher> lw, Clock* clock, WatcherOptions options = {});
  WatcherSource(const WatcherSource&) = delete;
  WatcherSource& operator=(const WatcherSource&) = delete;

  Status Run(const EventFn& on_event, const ErrorFn& on_error) override;
  void Cancel() override;
  std::optional<Clock::TimePoint> LastProgress() const override { return watcher_.LastStep(); }

 private:
  std::unique_ptr<ListerWatcher> lw_;
  Watcher watcher_;
};

}  // namespace sg::kube
