// KubeLeaseLock: LeaseLock on a coordination.k8s.io/v1 Lease "namespace/name"
// through the client's Transport, so every request carries its own timeout
// (the Client's typed calls use the transport default). Serves the
// controller's election lock and named per-database locks alike: one
// instance per Lease.
//
// Create writes `labels` and `annotations` (e.g. what the lock guards, for
// people reading `kubectl get lease -o yaml`). Update PUTs the last object
// read (labels, annotations and owner references survive) with the new spec
// and the caller's resourceVersion; the API server answers 409 (kConflict)
// when that resourceVersion is stale.
//
// LeaseRecord::fencing_token maps to the annotation kFencingTokenAnnotation
// (a decimal string), not to the spec: every write sets it to the record's
// token or removes it when the record has none; a value that is not a
// positive integer reads as none.
//
// Thread-safety: thread-safe. Ownership: borrows the Transport (it must
// outlive the lock).
#pragma once

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/lease/lease_lock.h"
#include "kube/transport/transport.h"

namespace sg::kube {

class KubeLeaseLock final : public LeaseLock {
 public:
  KubeLeaseLock(Transport* transport, std::string ns, std::string name,
                nlohmann::json labels = nlohmann::json::object(),
                nlohmann::json annotations = nlohmann::json::object());
  KubeLeaseLock(const KubeLeaseLock&) = delete;
  KubeLeaseLock& operator=(const KubeLeaseLock&) = delete;

  StatusOr<ObservedLease> Get(Clock::Duration timeout) override;
  StatusOr<ObservedLease> Create(const LeaseRecord& record, Clock::Duration timeout) override;
  StatusOr<ObservedLease> Update(const std::string& resource_version, const LeaseRecord& record,
                                 Clock::Duration timeout) override;
  std::string Describe() const override { return ns_ + "/" + name_; }

 private:
  StatusOr<ObservedLease> Send(const std::string& method, const std::string& path,
                               const std::string& body, Clock::Duration timeout);

  Transport* const transport_;
  const std::string ns_;
  const std::string name_;
  const nlohmann::json labels_;
  const nlohmann::json annotations_;
  std::mutex mu_;
  nlohmann::json last_;  // the last Lease object seen (base for Update)
};

}  // namespace sg::kube
