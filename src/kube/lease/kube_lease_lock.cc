#include "kube/lease/kube_lease_lock.h"

#include <algorithm>

#include "kube/client/gvr.h"

namespace sg::kube {

using nlohmann::json;

namespace {

std::chrono::milliseconds ToMillis(Clock::Duration d) {
  // Round up: a sub-millisecond remainder must not become "no timeout" (0).
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d);
  return std::max(ms, std::chrono::milliseconds(1));
}

// Sets (or, for a record without one, removes) the token annotation of
// `meta`: what is written is always the record's, never a stale copy.
void SetTokenAnnotation(json& meta, const LeaseRecord& record) {
  if (record.fencing_token) {
    if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
      meta["annotations"] = json::object();
    }
    meta["annotations"][kFencingTokenAnnotation] = std::to_string(*record.fencing_token);
  } else if (meta.contains("annotations") && meta["annotations"].is_object()) {
    meta["annotations"].erase(kFencingTokenAnnotation);
    if (meta["annotations"].empty()) meta.erase("annotations");
  }
}

// A token we could not have written (not a positive integer) reads as none:
// the holder's next write then derives a fresh one, which is above every
// earlier token (lease_claim.h), instead of the Lease failing every step.
std::optional<int64_t> TokenAnnotation(const json& meta) {
  auto a = meta.find("annotations");
  if (a == meta.end() || !a->is_object()) return std::nullopt;
  auto t = a->find(kFencingTokenAnnotation);
  if (t == a->end() || !t->is_string()) return std::nullopt;
  return ParsePositiveInt64(t->get_ref<const std::string&>());
}

}  // namespace

KubeLeaseLock::KubeLeaseLock(Transport* transport, std::string ns, std::string name, json labels,
                             json annotations)
    : transport_(transport),
      ns_(std::move(ns)),
      name_(std::move(name)),
      labels_(std::move(labels)),
      annotations_(std::move(annotations)) {}

StatusOr<ObservedLease> KubeLeaseLock::Send(const std::string& method, const std::string& path,
                                            const std::string& body, Clock::Duration timeout) {
  Request req;
  req.method = method;
  req.path = path;
  req.body = body;
  req.timeout = ToMillis(timeout);
  auto resp = transport_->Do(req);
  if (!resp.ok()) return resp.status().WithContext(method + " lease " + Describe());
  json object = json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return InternalError(method + " lease " + Describe() + ": response is not a JSON object");
  }
  auto spec = object.find("spec");
  auto record = LeaseRecordFromSpec(spec == object.end() ? json() : *spec);
  if (!record.ok()) return record.status().WithContext("lease " + Describe());
  ObservedLease lease;
  lease.record = *std::move(record);
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
    lease.resource_version = meta->value("resourceVersion", "");
    lease.record.fencing_token = TokenAnnotation(*meta);
  }
  std::lock_guard<std::mutex> l(mu_);
  last_ = std::move(object);
  return lease;
}

StatusOr<ObservedLease> KubeLeaseLock::Get(Clock::Duration timeout) {
  return Send("GET", ResourcePath(gvr::Lease(), ns_, name_), "", timeout);
}

StatusOr<ObservedLease> KubeLeaseLock::Create(const LeaseRecord& record, Clock::Duration timeout) {
  json meta = {{"name", name_}, {"namespace", ns_}};
  if (!labels_.empty()) meta["labels"] = labels_;
  if (!annotations_.empty()) meta["annotations"] = annotations_;
  SetTokenAnnotation(meta, record);
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", meta},
                {"spec", LeaseSpecToJson(record)}};
  return Send("POST", ResourcePath(gvr::Lease(), ns_), lease.dump(), timeout);
}

StatusOr<ObservedLease> KubeLeaseLock::Update(const std::string& resource_version,
                                              const LeaseRecord& record, Clock::Duration timeout) {
  json lease;
  {
    std::lock_guard<std::mutex> l(mu_);
    lease = last_.is_object() ? last_ : json::object();
  }
  lease["apiVersion"] = "coordination.k8s.io/v1";
  lease["kind"] = "Lease";
  if (!lease.contains("metadata") || !lease["metadata"].is_object()) {
    lease["metadata"] = json::object();
  }
  lease["metadata"]["name"] = name_;
  lease["metadata"]["namespace"] = ns_;
  lease["metadata"]["resourceVersion"] = resource_version;
  lease["metadata"].erase("managedFields");
  SetTokenAnnotation(lease["metadata"], record);
  lease["spec"] = LeaseSpecToJson(record);
  return Send("PUT", ResourcePath(gvr::Lease(), ns_, name_), lease.dump(), timeout);
}

}  // namespace sg::kube
