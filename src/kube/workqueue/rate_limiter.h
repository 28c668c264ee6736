// Rate limiters for WorkQueue::AddRateLimited: how long an item waits before
// it is retried. The shapes and defaults follow client-go's workqueue:
// a per-item exponential backoff (5 ms doubling to 1000 s) combined, by
// taking the longer delay, with an overall token bucket (10 qps, burst 100)
// that keeps a burst of failures from hammering the API server.
//
// Thread-safety: every limiter here is thread-safe.
// Ownership: limiters do not own the Clock they are given; it must outlive
// them.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"

namespace sg::kube {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` should wait before its next attempt; counts a failure.
  virtual Clock::Duration When(const std::string& key) = 0;
  // Clears the failure history of `key` (it succeeded or was dropped).
  virtual void Forget(const std::string& key) = 0;
  // Failures recorded for `key` since the last Forget.
  virtual int NumRequeues(const std::string& key) = 0;
};

// base * 2^(failures so far), capped at `max`.
class ExponentialFailureRateLimiter final : public RateLimiter {
 public:
  ExponentialFailureRateLimiter(Clock::Duration base, Clock::Duration max);
  Clock::Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const Clock::Duration base_;
  const Clock::Duration max_;
  std::mutex mu_;
  std::map<std::string, int> failures_;
};

// A token bucket shared by all keys: `burst` immediate admissions, then one
// every 1/qps. Each When reserves a token, so delays queue up behind each
// other like golang.org/x/time/rate's Reserve().Delay().
class TokenBucketRateLimiter final : public RateLimiter {
 public:
  TokenBucketRateLimiter(double qps, int burst, Clock* clock);
  Clock::Duration When(const std::string& key) override;
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }

 private:
  const double qps_;
  const double burst_;
  Clock* const clock_;
  std::mutex mu_;
  double tokens_;
  Clock::TimePoint last_;
};

// The longest delay of its parts; Forget forgets in all of them.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Clock::Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max(exponential 5 ms -> 1000 s,
// token bucket 10 qps burst 100).
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(Clock* clock);

}  // namespace sg::kube
