#include "kube/transport/cancellation.h"

#include <vector>

namespace sg::kube {

void Cancellation::Cancel() {
  std::map<Handle, Callback> callbacks;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    callbacks.swap(callbacks_);
    running_callbacks_ = true;
  }
  cv_.notify_all();
  for (auto& [h, cb] : callbacks) cb();
  {
    std::lock_guard<std::mutex> l(mu_);
    running_callbacks_ = false;
  }
  cv_.notify_all();
}

bool Cancellation::cancelled() const {
  std::lock_guard<std::mutex> l(mu_);
  return cancelled_;
}

Cancellation::Handle Cancellation::OnCancel(Callback cb) const {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!cancelled_) {
      Handle h = next_++;
      callbacks_.emplace(h, std::move(cb));
      return h;
    }
  }
  cb();
  return 0;
}

void Cancellation::Remove(Handle h) const {
  std::unique_lock<std::mutex> l(mu_);
  if (h == 0) return;
  if (callbacks_.erase(h) > 0) return;
  // Cancel() took the callbacks and may be running ours: wait for it to end,
  // so the caller may free what the callback touches.
  cv_.wait(l, [this] { return !running_callbacks_; });
}

bool Cancellation::WaitUntil(Clock* clock, Clock::TimePoint deadline) const {
  std::unique_lock<std::mutex> l(mu_);
  while (!cancelled_ && clock->Now() < deadline) {
    clock->WaitUntil(l, cv_, deadline);
  }
  return cancelled_;
}

CancelRegistration::CancelRegistration(const Cancellation& c, Cancellation::Callback cb)
    : c_(c), h_(c.OnCancel(std::move(cb))) {}

CancelRegistration::~CancelRegistration() { c_.Remove(h_); }

}  // namespace sg::kube
