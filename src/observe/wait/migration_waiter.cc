#include "observe/wait/migration_waiter.h"

#include <thread>

namespace sg::observe {

std::string_view WaitOutcomeName(WaitOutcome outcome) {
  switch (outcome) {
    case WaitOutcome::kReady:
      return "ready";
    case WaitOutcome::kTimeout:
      return "timeout";
    case WaitOutcome::kStalled:
      return "stalled";
    case WaitOutcome::kApiRefused:
      return "api-refused";
    case WaitOutcome::kApiUnreachable:
      return "api-unreachable";
    case WaitOutcome::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

MigrationWaiter::MigrationWaiter(kube::ListerWatcher* lw, Clock* clock, WaitOptions options)
    : lw_(lw), clock_(clock), options_(std::move(options)) {}

void MigrationWaiter::Cancel() {
  std::lock_guard<std::mutex> l(mu_);
  cancelled_ = true;
  if (watcher_) watcher_->Cancel();
  cv_.notify_all();
}

WaitResult MigrationWaiter::Wait() {
  kube::WatcherOptions wo = options_.watcher;
  wo.field_selector = "metadata.name=" + options_.name;
  kube::Watcher watcher(lw_, clock_, wo);
  const bool has_deadline = options_.timeout.has_value();
  const Clock::TimePoint deadline =
      has_deadline ? clock_->Now() + *options_.timeout : Clock::TimePoint::max();
  bool finished = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    watcher_ = &watcher;
    if (cancelled_) watcher.Cancel();
  }

  // The deadline thread: a watch blocked in Next() can only be interrupted by
  // cancelling the watcher, so the timeout is enforced from here.
  std::thread timer([&] {
    std::unique_lock<std::mutex> l(mu_);
    while (!finished && !cancelled_) {
      if (!has_deadline) {
        Clock::Wait(l, cv_);
        continue;
      }
      if (clock_->Now() >= deadline) {
        timed_out_ = true;
        watcher.Cancel();
        cv_.notify_all();
        return;
      }
      clock_->WaitUntil(l, cv_, deadline);
    }
  });

  WaitResult result;
  std::optional<nlohmann::json> current;
  std::string last_detail;
  int failures = 0;
  auto decide = [&]() -> std::optional<WaitOutcome> {
    WaitDecision d = Decide(current ? &*current : nullptr, options_.criteria);
    if (d.detail != last_detail) {
      last_detail = d.detail;
      if (on_progress) on_progress(d);
    }
    result.last = d;
    if (d.state == WaitDecision::State::kReady) return WaitOutcome::kReady;
    if (d.state == WaitDecision::State::kStalled && options_.fail_on_stalled) {
      return WaitOutcome::kStalled;
    }
    return std::nullopt;
  };
  auto stopped = [&]() -> std::optional<WaitOutcome> {
    std::lock_guard<std::mutex> l(mu_);
    if (timed_out_) return WaitOutcome::kTimeout;
    if (cancelled_) return WaitOutcome::kCancelled;
    return std::nullopt;
  };

  std::optional<WaitOutcome> outcome;
  while (!outcome) {
    if ((outcome = stopped())) break;
    kube::Watcher::StepResult r = watcher.Step();
    if (r.error.code() == Code::kCancelled) {
      outcome = stopped().value_or(WaitOutcome::kCancelled);
      break;
    }
    if (!r.error.ok()) {
      ++failures;
      result.last_error = r.error;
      if (on_api_error) on_api_error(r.error, failures);
      if (failures >= options_.max_api_failures) {
        Code c = r.error.code();
        bool refused = c == Code::kForbidden || c == Code::kUnauthorized || c == Code::kNotFound;
        outcome = refused ? WaitOutcome::kApiRefused : WaitOutcome::kApiUnreachable;
      }
      continue;
    }
    if (r.wait.count() > 0) {  // backing off: sleep, but wake for the deadline
      std::unique_lock<std::mutex> l(mu_);
      Clock::TimePoint until = std::min(clock_->Now() + r.wait, deadline);
      while (!timed_out_ && !cancelled_ && clock_->Now() < until) {
        clock_->WaitUntil(l, cv_, until);
      }
      continue;
    }
    failures = 0;  // a step that did its work: the API answers
    if (!r.event) continue;
    switch (r.event->type) {
      case kube::WatcherEvent::Type::kRestarted:
        current.reset();
        for (const auto& o : r.event->objects) {
          if (o.value("metadata", nlohmann::json::object()).value("name", "") == options_.name) {
            current = o;
          }
        }
        break;
      case kube::WatcherEvent::Type::kApplied:
        current = r.event->object;
        break;
      case kube::WatcherEvent::Type::kDeleted:
        current.reset();
        break;
    }
    outcome = decide();
  }

  {
    std::lock_guard<std::mutex> l(mu_);
    finished = true;
    watcher_ = nullptr;
    cv_.notify_all();
  }
  timer.join();
  result.outcome = *outcome;
  return result;
}

}  // namespace sg::observe
