#include "kube/lease/fake_lease_lock.h"

namespace sg::kube {

std::string FakeLeaseStore::Put(const LeaseRecord& record,
                                std::optional<std::string> resource_version) {
  std::lock_guard<std::mutex> l(mu_);
  std::string rv = std::to_string(next_rv_++);
  lease_ = ObservedLease{record, resource_version.value_or(rv)};
  ++writes_;
  return lease_->resource_version;
}

bool FakeLeaseStore::Delete() {
  std::lock_guard<std::mutex> l(mu_);
  if (!lease_) return false;
  lease_.reset();
  ++next_rv_;
  ++writes_;
  return true;
}

std::optional<ObservedLease> FakeLeaseStore::Peek() const {
  std::lock_guard<std::mutex> l(mu_);
  return lease_;
}

int FakeLeaseStore::writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

Status FakeLeaseLock::Gate(Clock::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  ++calls_;
  last_timeout_ = timeout;
  Clock* clock = store_->clock();
  const auto start = clock->Now();
  const auto timed_out = start + timeout;
  if (!faults_.empty()) {
    Fault f = faults_.front();
    faults_.pop_front();
    if (f.delay > Clock::Duration::zero()) {
      // Saturate: a delay of max() must not overflow the deadline.
      const auto until = f.delay >= timeout ? timed_out : start + f.delay;
      ++hanging_;
      while (clock->Now() < until) clock->WaitUntil(lock, cv_, until);
      --hanging_;
      if (f.delay >= timeout) return TimeoutError("fake lease " + name_ + ": request timed out");
    }
    return f.status.value_or(OkStatus());
  }
  if (!hung_) return OkStatus();
  ++hanging_;
  while (hung_ && clock->Now() < timed_out) clock->WaitUntil(lock, cv_, timed_out);
  --hanging_;
  if (hung_) return TimeoutError("fake lease " + name_ + ": request timed out");
  return OkStatus();
}

StatusOr<ObservedLease> FakeLeaseLock::Get(Clock::Duration timeout) {
  SG_RETURN_IF_ERROR(Gate(timeout));
  std::lock_guard<std::mutex> l(store_->mu_);
  if (!store_->lease_) return NotFoundError("lease " + name_ + " not found");
  return *store_->lease_;
}

StatusOr<ObservedLease> FakeLeaseLock::Create(const LeaseRecord& record, Clock::Duration timeout) {
  SG_RETURN_IF_ERROR(Gate(timeout));
  std::lock_guard<std::mutex> l(store_->mu_);
  if (store_->lease_) return AlreadyExistsError("lease " + name_ + " already exists");
  store_->lease_ = ObservedLease{record, std::to_string(store_->next_rv_++)};
  ++store_->writes_;
  return *store_->lease_;
}

StatusOr<ObservedLease> FakeLeaseLock::Update(const std::string& resource_version,
                                              const LeaseRecord& record, Clock::Duration timeout) {
  SG_RETURN_IF_ERROR(Gate(timeout));
  std::lock_guard<std::mutex> l(store_->mu_);
  if (!store_->lease_) return NotFoundError("lease " + name_ + " not found");
  if (store_->lease_->resource_version != resource_version) {
    return ConflictError("lease " + name_ + ": the object has been modified");
  }
  store_->lease_ = ObservedLease{record, std::to_string(store_->next_rv_++)};
  ++store_->writes_;
  return *store_->lease_;
}

void FakeLeaseLock::FailNext(Status status) {
  std::lock_guard<std::mutex> l(mu_);
  faults_.push_back({Clock::Duration::zero(), std::move(status)});
}

void FakeLeaseLock::DelayNext(Clock::Duration delay, std::optional<Status> then) {
  std::lock_guard<std::mutex> l(mu_);
  faults_.push_back({delay, std::move(then)});
}

void FakeLeaseLock::SetHung(bool hung) {
  std::lock_guard<std::mutex> l(mu_);
  hung_ = hung;
  cv_.notify_all();
}

int FakeLeaseLock::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

int FakeLeaseLock::hanging() const {
  std::lock_guard<std::mutex> l(mu_);
  return hanging_;
}

Clock::Duration FakeLeaseLock::last_timeout() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_timeout_;
}

}  // namespace sg::kube
