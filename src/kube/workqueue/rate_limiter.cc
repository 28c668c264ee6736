#include "kube/workqueue/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sg::kube {

ExponentialFailureRateLimiter::ExponentialFailureRateLimiter(Clock::Duration base,
                                                             Clock::Duration max)
    : base_(base), max_(max) {}

Clock::Duration ExponentialFailureRateLimiter::When(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  const int exp = failures_[key]++;
  // Computed in floating point: 2^exp overflows integer nanoseconds long
  // before the cap is reached for large failure counts.
  const double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (backoff >= static_cast<double>(max_.count())) return max_;
  return Clock::Duration(static_cast<Clock::Duration::rep>(backoff));
}

void ExponentialFailureRateLimiter::Forget(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  failures_.erase(key);
}

int ExponentialFailureRateLimiter::NumRequeues(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucketRateLimiter::TokenBucketRateLimiter(double qps, int burst, Clock* clock)
    : qps_(qps), burst_(burst), clock_(clock), tokens_(burst), last_(clock->Now()) {}

Clock::Duration TokenBucketRateLimiter::When(const std::string&) {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = clock_->Now();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Clock::Duration::zero();
  // The reservation is honoured -tokens_/qps seconds from now.
  return std::chrono::duration_cast<Clock::Duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Clock::Duration MaxOfRateLimiter::When(const std::string& key) {
  Clock::Duration longest = Clock::Duration::zero();
  for (auto& l : limiters_) longest = std::max(longest, l->When(key));
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& key) {
  for (auto& l : limiters_) l->Forget(key);
}

int MaxOfRateLimiter::NumRequeues(const std::string& key) {
  int most = 0;
  for (auto& l : limiters_) most = std::max(most, l->NumRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(Clock* clock) {
  using namespace std::chrono_literals;
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(std::make_unique<ExponentialFailureRateLimiter>(5ms, 1000s));
  parts.push_back(std::make_unique<TokenBucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(parts));
}

}  // namespace sg::kube
