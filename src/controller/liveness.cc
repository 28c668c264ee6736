#include "controller/liveness.h"

#include "common/duration.h"

namespace sg::controller {

namespace {

// Whole seconds read better in a probe answer than nanoseconds.
std::string Seconds(Clock::Duration d) {
  return FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

}  // namespace

void Liveness::Started(int worker, const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  running_[worker] = {key, clock_->Now()};
}

void Liveness::Finished(int worker) {
  std::lock_guard<std::mutex> l(mu_);
  running_.erase(worker);
}

void Liveness::SetInformers(std::vector<std::pair<std::string, ProgressFn>> informers) {
  std::lock_guard<std::mutex> l(mu_);
  informers_ = std::move(informers);
}

void Liveness::SetLeaderLease(std::string lease, Clock::Duration lease_duration,
                              ProgressFn renewed_at) {
  std::lock_guard<std::mutex> l(mu_);
  leader_lease_ = std::move(lease);
  leader_lease_duration_ = lease_duration;
  leader_renewed_at_ = std::move(renewed_at);
}

Status Liveness::Check() const {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = clock_->Now();
  for (const auto& [worker, r] : running_) {
    if (now - r.since > options_.max_reconcile) {
      return UnavailableError("worker " + std::to_string(worker) + " has been reconciling " +
                              r.key + " for " + Seconds(now - r.since) + " (limit " +
                              Seconds(options_.max_reconcile) + ")");
    }
  }
  for (const auto& [name, progress] : informers_) {
    auto p = progress ? progress() : std::nullopt;
    if (p && now - *p > options_.max_informer_silence) {
      return UnavailableError(name + " informer made no progress for " + Seconds(now - *p) +
                              " (limit " + Seconds(options_.max_informer_silence) + ")");
    }
  }
  if (leader_renewed_at_) {
    const auto limit = std::chrono::duration_cast<Clock::Duration>(
        leader_lease_duration_ * (1.0 + options_.leader_renew_tolerance));
    auto renewed = leader_renewed_at_();
    if (renewed && now - *renewed > limit) {
      return UnavailableError("leading, but the leader Lease " + leader_lease_ +
                              " was last renewed " + Seconds(now - *renewed) + " ago (limit " +
                              Seconds(limit) + ")");
    }
  }
  return OkStatus();
}

}  // namespace sg::controller
