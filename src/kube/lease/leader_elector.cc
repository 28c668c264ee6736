#include "kube/lease/leader_elector.h"

#include <random>

namespace sg::kube {
namespace {

constexpr double kJitterFactor = 1.2;  // client-go's JitterFactor

std::function<double()> DefaultRandom() {
  auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return [gen, mu] {
    std::lock_guard<std::mutex> l(*mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(*gen);
  };
}

}  // namespace

StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::New(std::unique_ptr<LeaseLock> lock,
                                                            LeaderElectorConfig config,
                                                            Clock* clock) {
  SG_ASSIGN_OR_RETURN(auto claim,
                      LeaseClaim::New(std::move(lock), config.identity, config.timings, clock));
  if (!config.random) config.random = DefaultRandom();
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(std::move(claim), std::move(config), clock));
}

LeaderElector::LeaderElector(std::unique_ptr<LeaseClaim> claim, LeaderElectorConfig config,
                             Clock* clock)
    : claim_(std::move(claim)), config_(std::move(config)), clock_(clock) {}

void LeaderElector::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stopped_ = true;
  cv_.notify_all();
}

bool LeaderElector::Stopped() {
  std::lock_guard<std::mutex> l(mu_);
  return stopped_;
}

bool LeaderElector::SleepUntil(Clock::TimePoint t) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_ && clock_->Now() < t) clock_->WaitUntil(lock, cv_, t);
  return !stopped_;
}

void LeaderElector::ReportLeader() {
  const std::string holder = claim_->ObservedHolder();
  if (reported_leader_ && *reported_leader_ == holder) return;
  reported_leader_ = holder;
  if (config_.callbacks.on_new_leader) config_.callbacks.on_new_leader(holder);
}

Status LeaderElector::Run() {
  const LeaseTimings& t = config_.timings;
  // Acquire: every RetryPeriod plus jitter, until we hold the lease (and
  // with it a token: an acquisition always writes one).
  std::optional<int64_t> token;
  for (;;) {
    if (Stopped()) return OkStatus();
    const auto start = clock_->Now();
    auto acquired = claim_->TryAcquireOrRenew();
    ReportLeader();
    token = claim_->FencingToken();  // nullopt unless Held()
    if (acquired.ok() && *acquired && token) break;
    const auto jitter = std::chrono::duration_cast<Clock::Duration>(
        t.retry_period * (kJitterFactor * config_.random()));
    if (!SleepUntil(start + t.retry_period + jitter)) return OkStatus();
  }

  if (config_.callbacks.on_started_leading) {
    config_.callbacks.on_started_leading(*token);
  }

  // Renew every RetryPeriod; a failed try is retried every RetryPeriod until
  // the renew deadline of the last success passes.
  Status last_error;
  bool lost = false;
  auto next = claim_->NextAttemptAt();
  for (;;) {
    if (!SleepUntil(std::min(next, claim_->HeldUntil()))) break;
    if (!claim_->Held()) {
      lost = true;
      break;
    }
    if (clock_->Now() < next) continue;
    auto renewed = claim_->TryAcquireOrRenew();
    ReportLeader();
    if (!renewed.ok()) {
      last_error = renewed.status();
    } else if (!*renewed) {
      last_error = FailedPreconditionError("lease taken by " + claim_->ObservedHolder());
    }
    if (!claim_->Held()) {
      lost = true;
      break;
    }
    next = claim_->NextAttemptAt();
  }

  Status result;
  if (lost) {
    std::string why = "lost leadership of lease " + claim_->Describe() +
                      ": not renewed within the renew deadline";
    if (!last_error.ok()) why += " (last error: " + last_error.ToString() + ")";
    result = FailedPreconditionError(std::move(why));
  } else if (config_.release_on_stop) {
    // Best effort: on failure the lease simply expires after LeaseDuration.
    result = claim_->Release();
    ReportLeader();
  }
  if (config_.callbacks.on_stopped_leading) config_.callbacks.on_stopped_leading();
  return result;
}

}  // namespace sg::kube
