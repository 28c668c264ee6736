#include "kube/lease/lease_claim.h"

#include <algorithm>
#include <limits>

namespace sg::kube {

using namespace std::chrono_literals;

namespace {

// The token of a tenure whose first write is an Update based on
// `base_version` (see "Fencing" in the header); `recorded` is the token the
// Lease carries, if any, which only matters if it is not below the version.
StatusOr<int64_t> TokenAfter(const std::string& base_version, std::optional<int64_t> recorded) {
  const auto rv = ParsePositiveInt64(base_version);
  const int64_t floor = std::max(rv.value_or(0), recorded.value_or(0));
  if (!rv || floor == std::numeric_limits<int64_t>::max()) {
    return InternalError("resourceVersion \"" + base_version +
                         "\" is not a positive decimal integer: cannot derive a fencing token");
  }
  return floor + 1;
}

// Free: another candidate takes it at once (a valid holder is only ever a
// named one). As client-go's release: leaseDurationSeconds 1.
LeaseRecord FreeRecord(Clock::WallTime wall) {
  LeaseRecord free;
  free.holder_identity = "";
  free.lease_duration_seconds = 1;
  free.acquire_time = wall;
  free.renew_time = wall;
  return free;
}

}  // namespace

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

StatusOr<Clock::Duration> LeaseClaim::CallTimeout(std::optional<Clock::TimePoint> bound,
                                                  const Status& last) const {
  const auto base = timings_.RequestTimeout();
  if (!bound) return base;
  const auto now = clock_->Now();
  if (now >= *bound) {
    std::string why = "renew deadline reached before the lease was renewed";
    if (!last.ok()) why += " (last error: " + last.ToString() + ")";
    return TimeoutError(std::move(why));
  }
  return std::min<Clock::Duration>(base, *bound - now);
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
  renewed_at_ = start;
}

StatusOr<bool> LeaseClaim::TryAcquireOrRenew() {
  std::lock_guard<std::mutex> step(step_mu_);
  const auto start = clock_->Now();
  std::optional<Clock::TimePoint> bound;
  {
    std::lock_guard<std::mutex> l(mu_);
    last_attempt_ = start;
    // Leading now: the step must end by the time Held() turns false, or we
    // would learn that we lost the lease after a standby may have taken it.
    if (IsLeaderLocked() && start < held_until_) bound = held_until_;
  }
  auto result = StepLocked(start, bound);
  if (!result.ok()) return result.status().WithContext("lease " + lock_->Describe());
  return result;
}

StatusOr<bool> LeaseClaim::StepLocked(Clock::TimePoint start,
                                      std::optional<Clock::TimePoint> bound) {
  const auto wall = clock_->WallNow();
  LeaseRecord desired;
  desired.holder_identity = identity_;
  desired.lease_duration_seconds = static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(timings_.lease_duration).count());
  desired.acquire_time = wall;
  desired.renew_time = wall;
  Status last;  // the step's latest request error, for a timeout's message

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
    renew.fencing_token = cached.fencing_token;
    if (!renew.fencing_token) {
      SG_ASSIGN_OR_RETURN(renew.fencing_token, TokenAfter(cached_rv, std::nullopt));
    }
    SG_ASSIGN_OR_RETURN(auto timeout, CallTimeout(bound, last));
    auto updated = lock_->Update(cached_rv, renew, timeout);
    if (updated.ok()) {
      Succeeded(*updated, start);
      return true;
    }
    // Fall through to the slow path, which re-reads the record.
    last = updated.status();
  }

  // 2. Read the record, or create it free (then take it over like any free
  // Lease, so that the token comes from a known base version).
  SG_ASSIGN_OR_RETURN(auto get_timeout, CallTimeout(bound, last));
  auto got = lock_->Get(get_timeout);
  if (!got.ok() && got.status().code() == Code::kNotFound) {
    SG_ASSIGN_OR_RETURN(auto create_timeout, CallTimeout(bound, last));
    got = lock_->Create(FreeRecord(wall), create_timeout);
    if (!got.ok() && got.status().code() == Code::kAlreadyExists) {
      // Someone else created it first: continue with theirs.
      SG_ASSIGN_OR_RETURN(auto reget_timeout, CallTimeout(bound, last));
      got = lock_->Get(reget_timeout);
    }
  }
  if (!got.ok()) return got.status();

  // 3. Remember what changed, on our clock; respect a valid foreign holder.
  Observe(*got);
  bool leader;
  {
    std::lock_guard<std::mutex> l(mu_);
    leader = IsLeaderLocked();
    if (!observed_->holder_identity.empty() && ValidLocked(start) && !leader) return false;
  }

  // 4. Renew (same holder) or take over (a new tenure: a new token).
  LeaseRecord next = desired;
  if (leader) {
    next.acquire_time = got->record.acquire_time;
    next.lease_transitions = got->record.lease_transitions;
    next.fencing_token = got->record.fencing_token;
    if (!next.fencing_token) {
      SG_ASSIGN_OR_RETURN(next.fencing_token, TokenAfter(got->resource_version, std::nullopt));
    }
  } else {
    next.lease_transitions = got->record.lease_transitions + 1;
    SG_ASSIGN_OR_RETURN(next.fencing_token,
                        TokenAfter(got->resource_version, got->record.fencing_token));
  }
  SG_ASSIGN_OR_RETURN(auto update_timeout, CallTimeout(bound, last));
  auto updated = lock_->Update(got->resource_version, next, update_timeout);
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
    release = FreeRecord(clock_->WallNow());
    release.lease_transitions = observed_->lease_transitions;
    // Kept for people reading the Lease; the next holder's token is above
    // it anyway (see TokenAfter).
    release.fencing_token = observed_->fencing_token;
    rv = observed_rv_;
  }
  auto updated = lock_->Update(rv, release, timings_.RequestTimeout());
  if (!updated.ok()) return updated.status().WithContext("releasing lease " + lock_->Describe());
  std::lock_guard<std::mutex> l(mu_);
  observed_ = updated->record;
  observed_rv_ = updated->resource_version;
  observed_time_ = clock_->Now();
  held_until_ = Clock::TimePoint{};
  renewed_at_.reset();
  return OkStatus();
}

bool LeaseClaim::Held() const {
  std::lock_guard<std::mutex> l(mu_);
  return IsLeaderLocked() && clock_->Now() < held_until_;
}

std::optional<int64_t> LeaseClaim::FencingToken() const {
  std::lock_guard<std::mutex> l(mu_);
  if (!IsLeaderLocked() || clock_->Now() >= held_until_) return std::nullopt;
  return observed_->fencing_token;
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

std::optional<Clock::TimePoint> LeaseClaim::RenewedAt() const {
  std::lock_guard<std::mutex> l(mu_);
  return IsLeaderLocked() ? renewed_at_ : std::nullopt;
}

Clock::TimePoint LeaseClaim::NextAttemptAt() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_attempt_ + timings_.retry_period;
}

}  // namespace sg::kube
