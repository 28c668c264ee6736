// EventRecorder: records events.k8s.io/v1 Events about objects without ever
// blocking the caller, aggregating repeats into an Event series.
//
// Event() only enqueues (a bounded queue; when full the event is dropped and
// counted). A sender thread turns the queue into API writes:
//   - the first occurrence of (regarding object, type, reason, action, note)
//     creates an Event;
//   - a repeat within `aggregation_window` of the previous occurrence does
//     not create another one: it bumps the series count and merge-patches
//     `series: {count, lastObservedTime}`, at most once per
//     `series_flush_interval` per Event (repeats in between are folded into
//     the next patch);
//   - after the window, or if the patched Event is gone, a new Event starts.
// All API writes share a token bucket (`qps`, `burst`); the sender waits for
// tokens on the injected Clock, the caller never does.
// Failures are counted (write_failures()) and otherwise dropped: events are
// best-effort diagnostics, never a reason to fail a reconcile.
//
// Thread-safety: Event() and the counters from any thread.
// Ownership: borrows the sink and the Clock (both must outlive the
// recorder). Destruction calls Shutdown().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "kube/events/event_sink.h"
#include "kube/workqueue/rate_limiter.h"

namespace sg::kube {

// Identifies the object an Event is about (Event.regarding).
struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;

  // From an object's apiVersion, kind and metadata.
  static ObjectRef From(const nlohmann::json& object);
  nlohmann::json ToJson() const;
};

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string reporting_controller = "schemagate.dev/controller";
  std::string reporting_instance;  // e.g. the pod name
  Clock::Duration aggregation_window = std::chrono::minutes(10);
  Clock::Duration series_flush_interval = std::chrono::seconds(30);
  double qps = 1.0;
  int burst = 25;
  size_t queue_capacity = 1000;
  size_t max_tracked = 4096;  // distinct events remembered for aggregation
};

class EventRecorder {
 public:
  EventRecorder(EventSink* sink, Clock* clock, EventRecorderOptions options);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Non-blocking. `reason` is CamelCase ("MigrationApplied"), `action` what
  // was done ("Migrate"), `note` the human text (truncated to 1 KiB).
  void Event(const ObjectRef& regarding, EventType type, const std::string& reason,
             const std::string& action, const std::string& note);

  // Stops accepting events, writes what is queued and any pending series
  // counts (without waiting for the rate limit), joins the sender.
  void Shutdown();

  uint64_t dropped() const;         // queue full or after Shutdown
  uint64_t write_failures() const;  // sink errors

 private:
  struct Pending {
    ObjectRef regarding;
    EventType type;
    std::string reason, action, note;
    Clock::TimePoint at;
    Clock::WallTime wall;
  };
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string,
                         std::string>;  // uid|ns/name, kind, type, reason, action, note
  struct Series {
    ObjectRef regarding;
    std::string ns;
    std::string name;  // the Event object
    int32_t count = 1;
    Clock::TimePoint last_observed;
    Clock::WallTime last_observed_wall;
    Clock::TimePoint last_write;
    bool dirty = false;  // count not yet written
  };

  void SenderLoop();
  void Process(const Pending& p);
  void CreateEvent(const Key& key, const Pending& p);
  void FlushSeries(const Key& key);
  // Waits (on the clock) for a write token unless shutting down.
  void WaitForToken();
  // Earliest time a dirty series is due (max() if none). Needs mu_.
  Clock::TimePoint NextFlushLocked() const;
  void EvictLocked(Clock::TimePoint now);
  static Key KeyFor(const Pending& p);

  EventSink* const sink_;
  Clock* const clock_;
  const EventRecorderOptions options_;
  TokenBucketRateLimiter bucket_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::map<Key, Series> series_;  // touched by the sender; guarded for eviction
  bool stopping_ = false;
  uint64_t dropped_ = 0;
  uint64_t write_failures_ = 0;
  uint64_t name_seq_ = 0;
  std::thread sender_;
};

}  // namespace sg::kube
