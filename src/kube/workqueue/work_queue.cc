#include "kube/workqueue/work_queue.h"

namespace sg::kube {

WorkQueue::WorkQueue(Clock* clock, std::unique_ptr<RateLimiter> limiter)
    : clock_(clock), limiter_(limiter ? std::move(limiter) : DefaultControllerRateLimiter(clock)) {}

WorkQueue::~WorkQueue() { ShutDown(); }

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  // A pending delayed add of the same key stays: it may be a periodic
  // requeue the reconciler asked for, and it deduplicates when it fires.
  if (!dirty_.insert(key).second) return;  // already queued or re-marked
  // While processing, the key stays out of the queue; Done re-queues it.
  if (processing_.count(key)) return;
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, Clock::Duration delay) {
  std::lock_guard<std::mutex> l(mu_);
  if (shutting_down_) return;
  if (delay <= Clock::Duration::zero()) {
    AddLocked(key);
    return;
  }
  const auto ready = clock_->Now() + delay;
  auto [it, inserted] = waiting_.try_emplace(key, ready);
  if (!inserted) {
    if (it->second <= ready) return;  // the earlier request wins
    timers_.erase({it->second, key});
    it->second = ready;
  }
  timers_.insert({ready, key});
  // A Get sleeping until a later timer must recompute its deadline.
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) { AddAfter(key, limiter_->When(key)); }

void WorkQueue::Forget(const std::string& key) { limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) { return limiter_->NumRequeues(key); }

void WorkQueue::PromoteReadyLocked() {
  const auto now = clock_->Now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    std::string key = timers_.begin()->second;
    timers_.erase(timers_.begin());
    waiting_.erase(key);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  return GetLocked(lock, std::nullopt);
}

std::optional<std::string> WorkQueue::GetUntil(Clock::TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return GetLocked(lock, deadline);
}

std::optional<std::string> WorkQueue::GetLocked(std::unique_lock<std::mutex>& lock,
                                                std::optional<Clock::TimePoint> deadline) {
  for (;;) {
    PromoteReadyLocked();
    if (!queue_.empty()) {
      std::string key = std::move(queue_.front());
      queue_.pop_front();
      processing_.insert(key);
      dirty_.erase(key);
      return key;
    }
    if (shutting_down_) return std::nullopt;
    if (deadline && clock_->Now() >= *deadline) return std::nullopt;
    std::optional<Clock::TimePoint> wake = deadline;
    if (!timers_.empty() && (!wake || timers_.begin()->first < *wake)) {
      wake = timers_.begin()->first;
    }
    if (wake) {
      clock_->WaitUntil(lock, cv_, *wake);
    } else {
      Clock::Wait(lock, cv_);
    }
  }
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (processing_.erase(key) == 0) return;
  // Re-added while it was processing: hand it out again (even during
  // shutdown, like client-go, so the latest change is not lost to a drain).
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
  if (processing_.empty()) drained_.notify_all();
}

size_t WorkQueue::Len() {
  std::lock_guard<std::mutex> l(mu_);
  PromoteReadyLocked();
  return queue_.size();
}

size_t WorkQueue::NumWaiting() {
  std::lock_guard<std::mutex> l(mu_);
  PromoteReadyLocked();
  return waiting_.size();
}

size_t WorkQueue::NumProcessing() {
  std::lock_guard<std::mutex> l(mu_);
  return processing_.size();
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> l(mu_);
  shutting_down_ = true;
  waiting_.clear();
  timers_.clear();
  cv_.notify_all();
}

bool WorkQueue::ShutDownWithDrain(Clock::TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  timers_.clear();
  cv_.notify_all();
  while (!processing_.empty()) {
    if (deadline == Clock::TimePoint::max()) {
      Clock::Wait(lock, drained_);
    } else {
      if (clock_->Now() >= deadline) return false;
      clock_->WaitUntil(lock, drained_, deadline);
    }
  }
  return true;
}

bool WorkQueue::ShuttingDown() {
  std::lock_guard<std::mutex> l(mu_);
  return shutting_down_;
}

}  // namespace sg::kube
