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
  return OkStatus();
}

}  // namespace sg::controller
