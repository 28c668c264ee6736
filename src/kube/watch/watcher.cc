#include "kube/watch/watcher.h"

#include <algorithm>

#include "kube/transport/api_status.h"

namespace sg::kube {

Watcher::Watcher(ListerWatcher* lw, Clock* clock, WatcherOptions options)
    : lw_(lw),
      clock_(clock),
      options_(std::move(options)),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()),
      last_step_(clock_->Now().time_since_epoch().count()) {}

Watcher::~Watcher() {
  cancel_.Cancel();
  stream_.reset();
}

Clock::Duration Watcher::next_backoff() const {
  double base = static_cast<double>(
      std::chrono::duration_cast<Clock::Duration>(options_.initial_backoff).count());
  double cap = static_cast<double>(
      std::chrono::duration_cast<Clock::Duration>(options_.max_backoff).count());
  for (int i = 0; i < failures_ && base < cap; ++i) base *= 2;
  return Clock::Duration(static_cast<Clock::Duration::rep>(std::min(base, cap)));
}

Watcher::StepResult Watcher::Fail(Status error, State next) {
  Clock::Duration delay = next_backoff();
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> d(0.0, options_.jitter);
    delay = Clock::Duration(
        static_cast<Clock::Duration::rep>(static_cast<double>(delay.count()) * (1 + d(rng_))));
  }
  ++failures_;
  not_before_ = clock_->Now() + delay;
  state_ = next;
  if (next == State::kListing) {
    continue_.clear();
    pending_.clear();
  }
  StepResult r;
  r.error = std::move(error);
  return r;
}

Watcher::StepResult Watcher::Step() {
  StepResult r = StepOnce();
  last_step_ = clock_->Now().time_since_epoch().count();
  return r;
}

Watcher::StepResult Watcher::StepOnce() {
  StepResult r;
  if (cancel_.cancelled()) {
    r.error = CancelledError("watcher cancelled");
    return r;
  }
  auto now = clock_->Now();
  if (now < not_before_) {
    r.wait = not_before_ - now;
    return r;
  }
  switch (state_) {
    case State::kListing:
      return StepListing();
    case State::kListed:
      return StepListed();
    case State::kWatching:
      return StepWatching();
  }
  return r;
}

Watcher::StepResult Watcher::StepListing() {
  ListOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.limit = options_.page_size;
  o.continue_token = continue_;
  auto page = lw_->List(o);
  if (!page.ok()) {
    if (page.status().code() == Code::kGone && !continue_.empty()) {
      // The continue token expired (etcd compacted): start over at once,
      // as client-go does, with a full list.
      continue_.clear();
      pending_.clear();
      StepResult r;
      r.error = page.status().WithContext("list (continue token expired)");
      return r;
    }
    return Fail(page.status().WithContext("list"), State::kListing);
  }
  for (auto& item : page->items) {
    if (options_.transform) options_.transform(item);
    pending_.push_back(std::move(item));
  }
  StepResult r;
  if (!page->continue_token.empty()) {
    continue_ = page->continue_token;
    return r;
  }
  rv_ = page->resource_version;
  continue_.clear();
  WatcherEvent e;
  e.type = WatcherEvent::Type::kRestarted;
  e.objects = std::move(pending_);
  pending_.clear();
  r.event = std::move(e);
  state_ = State::kListed;
  ResetBackoff();
  return r;
}

Watcher::StepResult Watcher::StepListed() {
  ListOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.resource_version = rv_;
  o.allow_watch_bookmarks = options_.allow_bookmarks;
  std::uniform_int_distribution<long> d(
      options_.min_watch_timeout.count(),
      std::max(options_.min_watch_timeout.count(), options_.max_watch_timeout.count()));
  o.timeout_seconds = static_cast<int>(d(rng_));
  auto stream = lw_->Watch(o, cancel_);
  StepResult r;
  if (!stream.ok()) {
    if (stream.status().code() == Code::kGone) {
      // Our resourceVersion is too old: only a fresh list can help.
      state_ = State::kListing;
      r.error = stream.status().WithContext("watch");
      return r;
    }
    return Fail(stream.status().WithContext("watch"), State::kListed);
  }
  stream_ = std::move(stream).value();
  state_ = State::kWatching;
  return r;
}

Watcher::StepResult Watcher::StepWatching() {
  StepResult r;
  auto next = stream_->Next();
  if (!next.ok()) {
    stream_.reset();
    Status s = next.status();
    if (s.code() == Code::kCancelled && cancel_.cancelled()) {
      state_ = State::kListed;
      r.error = s;
      return r;
    }
    if (s.code() == Code::kGone) {
      state_ = State::kListing;
      r.error = s.WithContext("watch");
      return r;
    }
    return Fail(s.WithContext("watch"), State::kListed);
  }
  if (!next->has_value()) {
    // The server closed the watch (timeoutSeconds): resume from rv.
    stream_.reset();
    state_ = State::kListed;
    return r;
  }
  WatchEvent ev = std::move(**next);
  if (ev.type == WatchEventType::kError) {
    stream_.reset();
    Status s = StatusFromApiStatus(ev.object).WithContext("watch ERROR event");
    if (s.code() == Code::kGone) {
      state_ = State::kListing;
      r.error = s;
      return r;
    }
    return Fail(s, State::kListing);
  }
  if (std::string rv = ev.ResourceVersion(); !rv.empty()) rv_ = rv;
  ResetBackoff();
  if (options_.transform && ev.type != WatchEventType::kBookmark) options_.transform(ev.object);
  switch (ev.type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified:
      r.event = WatcherEvent{WatcherEvent::Type::kApplied, {}, std::move(ev.object)};
      break;
    case WatchEventType::kDeleted:
      r.event = WatcherEvent{WatcherEvent::Type::kDeleted, {}, std::move(ev.object)};
      break;
    default:
      break;  // BOOKMARK: only the resourceVersion matters
  }
  return r;
}

Status Watcher::Run(const std::function<void(const WatcherEvent&)>& on_event,
                    const std::function<void(const Status&)>& on_error) {
  for (;;) {
    StepResult r = Step();
    if (cancel_.cancelled()) return CancelledError("watcher cancelled");
    if (!r.error.ok() && on_error) on_error(r.error);
    if (r.event) on_event(*r.event);
    if (r.wait.count() > 0) cancel_.WaitUntil(clock_, clock_->Now() + r.wait);
  }
}

}  // namespace sg::kube
