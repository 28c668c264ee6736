#include "kube/lease/lease_claim.h"

#include <algorithm>

namespace sg::kube {

using namespace std::chrono_literals;

Status LeaseTimings::Validate() const {
  if (retry_period <= Clock::Duration::zero()) {
    return InvalidError("leader election: retryPeriod must be greater than zero");
  }
  if (lease_duration % std::chrono::seconds(1) != Clock::Duration::zero()) {
    return InvalidError("leader election: leaseDuration must be a whole number of seconds");
  }
  if (!(lease_duration > renew_deadline)) {
    return InvalidError("leader election: leaseDuration must be greater than renewDeadline");
  }
  if (!(renew_deadline.count() > 1.2 * static_cast<double>(retry_period.count()))) {
    return InvalidError("leader election: renewDeadline must be greater than 1.2 x retryPeriod");
  }
  return OkStatus();
}

Clock::Duration LeaseTimings::RequestTimeout() const {
  return std::max<Clock::Duration>(renew_deadline / 2, 1s);
}

StatusOr<std::unique_ptr<LeaseClaim>> LeaseClaim::New(std::unique_ptr<LeaseLock> lock,
                                                      std::string identity, LeaseTimings timings,
                                                      Clock* clock) {
  SG_RETURN_IF_ERROR(timings.Validate());
  if (identity.empty()) return InvalidError("leader election: identity must not be empty");
  if (!lock) return InvalidError("leader election: no lock");
  return std::unique_ptr<LeaseClaim>(
      new LeaseClaim(std::move(lock), std::move(identity), timings, clock));
}

LeaseClaim::LeaseClaim(std::unique_ptr<LeaseLock> lock, std::string identity, LeaseTimings timings,
                       Clock* clock)
    : lock_(std::move(lock)), identity_(std::move(identity)), timings_(timings), clock_(clock) {}

bool LeaseClaim::IsLeaderLocked() const {
  return observed_ && observed_->holder_identity == identity_;
}

bool LeaseClaim::ValidLocked(Clock::TimePoint now) const {
  if (!observed_) return false;
  return observed_time_ + std::chrono::seconds(observed_->lease_duration_seconds) > now;
}

Clock::Duration LeaseClaim::CallTimeout() const {
  const auto base = timings_.RequestTimeout();
  std::lock_guard<std::mutex> l(mu_);
  const auto now = clock_->Now();
  if (IsLeaderLocked() && held_until_ > now) return std::min(base, held_until_ - now);
  return base;
}

void LeaseClaim::Observe(const ObservedLease& lease) {
  std::lock_guard<std::mutex> l(mu_);
  if (!observed_ || *observed_ != lease.record) {
    observed_ = lease.record;
    observed_time_ = clock_->Now();
  }
  observed_rv_ = lease.resource_version;
}

void LeaseClaim::Succeeded(const ObservedLease& lease, Clock::TimePoint start) {
  std::lock_guard<std::mutex> l(mu_);
  observed_ = lease.record;
  observed_rv_ = lease.resource_version;
  observed_time_ = clock_->Now();
  held_until_ = start + timings_.renew_deadline;
}

StatusOr<bool> LeaseClaim::TryAcquireOrRenew() {
  std::lock_guard<std::mutex> step(step_mu_);
  const auto start = clock_->Now();
  {
    std::lock_guard<std::mutex> l(mu_);
    last_attempt_ = start;
  }
  auto result = StepLocked(start);
  if (!result.ok()) return result.status().WithContext("lease " + lock_->Describe());
  return result;
}

StatusOr<bool> LeaseClaim::StepLocked(Clock::TimePoint start) {
  const auto wall = clock_->WallNow();
  LeaseRecord desired;
  desired.holder_identity = identity_;
  desired.lease_duration_seconds = static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(timings_.lease_duration).count());
  desired.acquire_time = wall;
  desired.renew_time = wall;

  // 1. Fast path: renew on the cached record without a Get.
  bool fast = false;
  LeaseRecord cached;
  std::string cached_rv;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (IsLeaderLocked() && ValidLocked(start)) {
      fast = true;
      cached = *observed_;
      cached_rv = observed_rv_;
    }
  }
  if (fast) {
    LeaseRecord renew = desired;
    renew.acquire_time = cached.acquire_time;
    renew.lease_transitions = cached.lease_transitions;
    auto updated = lock_->Update(cached_rv, renew, CallTimeout());
    if (updated.ok()) {
      Succeeded(*updated, start);
      return true;
    }
    // Fall through to the slow path, which re-reads the record.
  }

  // 2. Read (or create) the record.
  auto got = lock_->Get(CallTimeout());
  if (!got.ok()) {
    if (got.status().code() != Code::kNotFound) return got.status();
    auto created = lock_->Create(desired, CallTimeout());
    if (!created.ok()) return created.status();
    Succeeded(*created, start);
    return true;
  }

  // 3. Remember what changed, on our clock; respect a valid foreign holder.
  Observe(*got);
  bool leader;
  {
    std::lock_guard<std::mutex> l(mu_);
    leader = IsLeaderLocked();
    if (!observed_->holder_identity.empty() && ValidLocked(start) && !leader) return false;
  }

  // 4. Renew (same holder) or take over.
  LeaseRecord next = desired;
  if (leader) {
    next.acquire_time = got->record.acquire_time;
    next.lease_transitions = got->record.lease_transitions;
  } else {
    next.lease_transitions = got->record.lease_transitions + 1;
  }
  auto updated = lock_->Update(got->resource_version, next, CallTimeout());
  if (!updated.ok()) return updated.status();
  Succeeded(*updated, start);
  return true;
}

Status LeaseClaim::Release() {
  std::lock_guard<std::mutex> step(step_mu_);
  LeaseRecord release;
  std::string rv;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!IsLeaderLocked()) return OkStatus();
    const auto wall = clock_->WallNow();
    release.holder_identity = "";
    release.lease_duration_seconds = 1;
    release.acquire_time = wall;
    release.renew_time = wall;
    release.lease_transitions = observed_->lease_transitions;
    rv = observed_rv_;
  }
  auto updated = lock_->Update(rv, release, timings_.RequestTimeout());
  if (!updated.ok()) return updated.status().WithContext("releasing lease " + lock_->Describe());
  std::lock_guard<std::mutex> l(mu_);
  observed_ = updated->record;
  observed_rv_ = updated->resource_version;
  observed_time_ = clock_->Now();
  held_until_ = Clock::TimePoint{};
  return OkStatus();
}

bool LeaseClaim::Held() const {
  std::lock_guard<std::mutex> l(mu_);
  return IsLeaderLocked() && clock_->Now() < held_until_;
}

std::optional<int32_t> LeaseClaim::FencingToken() const {
  std::lock_guard<std::mutex> l(mu_);
  if (!IsLeaderLocked() || clock_->Now() >= held_until_) return std::nullopt;
  return observed_->lease_transitions;
}

std::string LeaseClaim::ObservedHolder() const {
  std::lock_guard<std::mutex> l(mu_);
  return observed_ ? observed_->holder_identity : "";
}

int32_t LeaseClaim::ObservedTransitions() const {
  std::lock_guard<std::mutex> l(mu_);
  return observed_ ? observed_->lease_transitions : 0;
}

Clock::TimePoint LeaseClaim::HeldUntil() const {
  std::lock_guard<std::mutex> l(mu_);
  return IsLeaderLocked() ? held_until_ : Clock::TimePoint{};
}

Clock::TimePoint LeaseClaim::NextAttemptAt() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_attempt_ + timings_.retry_period;
}

}  // namespace sg::kube
