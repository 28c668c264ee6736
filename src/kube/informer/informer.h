// Informer: keeps a Store in step with one resource through a WatchSource
// and tells event handlers about every change, after client-go's
// SharedIndexInformer.
//
// Threads (both owned by the informer, started by Start, joined by Stop):
//   - the watch thread runs the source and is the Store's only writer: it
//     applies each event to the Store, then queues a notification;
//   - the handler thread ("the informer's thread") calls the handlers, in
//     event order, one at a time. Handlers should be quick (typically: put
//     the object's key on a WorkQueue); a slow handler delays later
//     notifications but never the Store, which is always at least as new as
//     what handlers have seen.
// A re-list (kRestarted) replaces the Store's contents: objects that
// vanished are reported to on_delete with their last known state, new ones
// to on_add, and every remaining one to on_update (old, new) — as client-go
// does, handlers must tolerate old == new.
// Every resync_period (0 = never) after the initial sync, on_update is
// called with (obj, obj) for every cached object, so level-based
// reconcilers get a periodic nudge even when nothing changed.
//
// HasSynced(): the initial list is in the Store AND its notifications have
// been delivered. WaitForSync(deadline) blocks for it on the clock.
// LastProgress(): for liveness, the older of the source's last step and the
// start of a handler call still running (nullopt if the source does not
// tell and no handler runs).
//
// Thread-safety: AddIndex/AddHandlers before Start; everything else from
// any thread. Readers use store() concurrently with the writer.
// Ownership: owns its WatchSource; borrows the Clock.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "kube/informer/store.h"
#include "kube/informer/watch_source.h"

namespace sg::kube {

struct EventHandlers {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr& last_known)> on_delete;
};

struct InformerOptions {
  Clock::Duration resync_period{0};
  // Called on the watch thread for failures the source retries itself.
  std::function<void(const Status&)> on_error;
};

class Informer {
 public:
  Informer(std::unique_ptr<WatchSource> source, Clock* clock, InformerOptions options = {});
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  Status AddIndex(const std::string& name, IndexFunc fn);
  // kFailedPrecondition after Start.
  Status AddHandlers(EventHandlers handlers);

  void Start();
  // Cancels the source, delivers nothing more, joins both threads.
  void Stop();

  bool HasSynced() const;
  // true once synced; false if `deadline` (on the clock) passed or the
  // informer was stopped first.
  bool WaitForSync(Clock::TimePoint deadline);

  const Store& store() const { return store_; }
  std::optional<Clock::TimePoint> LastProgress() const;

 private:
  struct Notification {
    enum class Kind { kAdd, kUpdate, kDelete, kSynced } kind;
    ObjectPtr old_object;
    ObjectPtr object;
  };

  void Apply(const WatcherEvent& event);
  void Push(std::vector<Notification> batch);
  void DispatchLoop();
  void Deliver(const Notification& n);

  const std::unique_ptr<WatchSource> source_;
  Clock* const clock_;
  const InformerOptions options_;
  Store store_;
  std::vector<EventHandlers> handlers_;

  std::mutex apply_mu_;          // orders store writes with their notifications
  bool initial_listed_ = false;  // watch thread only (under apply_mu_)

  mutable std::mutex mu_;
  std::condition_variable cv_;  // notifications, stop, sync
  std::deque<Notification> pending_;
  bool started_ = false;
  bool stopping_ = false;
  bool synced_ = false;
  Clock::TimePoint next_resync_{};
  std::optional<Clock::TimePoint> delivering_since_;  // a handler call runs

  std::thread watch_thread_;
  std::thread dispatch_thread_;
};

}  // namespace sg::kube
