// FakeLeaseStore / FakeLeaseLock: an in-memory lease with the API server's
// optimistic concurrency (resourceVersion bumps on every write, stale writes
// get kConflict), for unit tests of lease logic only. resourceVersions are
// increasing decimal integers from one counter that also advances on
// Delete(), like etcd's revision, so a deleted and recreated lease gets
// higher ones than before.
//
// Several FakeLeaseLocks on one store play several candidates contending for
// one Lease; each lock can be given faults (fail or delay the next calls, or
// hang until its timeout passes on the store's clock) to simulate a broken
// network path for one candidate only. Put() writes a record directly, as a
// remote holder would (with whatever timestamps the test wants, e.g. skewed
// ones); Delete() removes it, as `kubectl delete lease` would.
//
// Thread-safety: thread-safe. Ownership: locks borrow their store; the store
// borrows its Clock; both must outlive the locks.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "kube/lease/lease_lock.h"

namespace sg::kube {

class FakeLeaseStore {
 public:
  explicit FakeLeaseStore(Clock* clock) : clock_(clock) {}
  FakeLeaseStore(const FakeLeaseStore&) = delete;
  FakeLeaseStore& operator=(const FakeLeaseStore&) = delete;

  // Unconditional write (creates if absent); returns the new resourceVersion.
  // `resource_version` replaces the counter's value for this write (to test
  // an API server whose versions are not integers); the counter still
  // advances.
  std::string Put(const LeaseRecord& record,
                  std::optional<std::string> resource_version = std::nullopt);
  // Removes the lease (a write: the counter advances); false if absent.
  bool Delete();
  std::optional<ObservedLease> Peek() const;
  int writes() const;

  Clock* clock() const { return clock_; }

 private:
  friend class FakeLeaseLock;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::optional<ObservedLease> lease_;
  int next_rv_ = 1;
  int writes_ = 0;
};

class FakeLeaseLock final : public LeaseLock {
 public:
  explicit FakeLeaseLock(FakeLeaseStore* store, std::string name = "default/lease")
      : store_(store), name_(std::move(name)) {}
  FakeLeaseLock(const FakeLeaseLock&) = delete;
  FakeLeaseLock& operator=(const FakeLeaseLock&) = delete;

  StatusOr<ObservedLease> Get(Clock::Duration timeout) override;
  StatusOr<ObservedLease> Create(const LeaseRecord& record, Clock::Duration timeout) override;
  StatusOr<ObservedLease> Update(const std::string& resource_version, const LeaseRecord& record,
                                 Clock::Duration timeout) override;
  std::string Describe() const override { return name_; }

  // The next call returns `status` (queued: one per call).
  void FailNext(Status status);
  // The next call first takes `delay` on the store's clock, then fails with
  // `then` if given, else proceeds; kTimeout instead if its own timeout is
  // shorter than the delay (as a slow network would). Queued with FailNext,
  // one per call, in order; Clock::Duration::max() hangs until the timeout.
  void DelayNext(Clock::Duration delay, std::optional<Status> then = std::nullopt);
  // While hung, every call blocks until its timeout passes on the store's
  // clock (then kTimeout) or SetHung(false) (then it proceeds).
  void SetHung(bool hung);
  // Calls made / calls currently blocked in a hang.
  int calls() const;
  int hanging() const;
  // The timeout the most recent call was given.
  Clock::Duration last_timeout() const;

 private:
  // Applies hang/fault injection; OK means "go on and do the call".
  Status Gate(Clock::Duration timeout);

  FakeLeaseStore* const store_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Fault {
    Clock::Duration delay{0};
    std::optional<Status> status;  // nullopt: proceed after the delay
  };
  std::deque<Fault> faults_;
  bool hung_ = false;
  int calls_ = 0;
  int hanging_ = 0;
  Clock::Duration last_timeout_{0};
};

}  // namespace sg::kube
