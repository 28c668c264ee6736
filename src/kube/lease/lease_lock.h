// LeaseLock: the seam between lease-based locking and the store that holds
// the lease. One LeaseLock names one lease (e.g. a coordination.k8s.io/v1
// Lease "namespace/name"); KubeLeaseLock (kube_lease_lock.h) is the real one,
// FakeLeaseLock (fake_lease_lock.h) the in-memory one for unit tests.
//
// Every call takes a timeout: the implementation must return (kTimeout or
// kUnavailable) within it, which is what keeps a hung request from holding a
// stale leader in place (LeaseClaim bounds it by the renew deadline).
//
// Contract:
//   Get    -> the record and its resourceVersion; kNotFound when absent.
//   Create -> the stored record; kAlreadyExists if someone created it first.
//   Update -> writes `record` iff the stored resourceVersion still equals
//             `resource_version`; kConflict otherwise; returns the new one.
//
// Thread-safety: implementations are safe for concurrent calls.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/lease/lease_record.h"

namespace sg::kube {

class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  virtual StatusOr<ObservedLease> Get(Clock::Duration timeout) = 0;
  virtual StatusOr<ObservedLease> Create(const LeaseRecord& record, Clock::Duration timeout) = 0;
  virtual StatusOr<ObservedLease> Update(const std::string& resource_version,
                                         const LeaseRecord& record, Clock::Duration timeout) = 0;
  // "namespace/name", for logs and errors.
  virtual std::string Describe() const = 0;
};

}  // namespace sg::kube
