#include "controller/reconciler.h"

#include <algorithm>

#include "controller/api/identity.h"
#include "controller/job/pod_attribution.h"
#include "kube/lease/kube_lease_lock.h"

namespace sg::controller {

using nlohmann::json;

Reconciler::Reconciler(kube::Client* client, Caches caches, Clock* clock, ReconcilerOptions options,
                       kube::EventRecorder* recorder)
    : client_(client),
      caches_(caches),
      clock_(clock),
      options_(std::move(options)),
      recorder_(recorder) {}

Observed Reconciler::Gather(const json& object) {
  Observed in;
  in.meta = ParseMeta(object);
  in.status = StatusFromJson(object.value("status", json::object()));
  in.spec = ParseSpec(object.value("spec", json()));
  in.now = clock_->WallNow();
  in.default_image = options_.job_image;
  in.recheck_interval = options_.recheck_interval;
  in.job_start_timeout = options_.job_start_timeout;
  in.policy = options_.job_policy;
  in.holder_identity = HolderIdentity(in.meta);
  if (in.spec.ok()) {
    in.identity = DatabaseIdentity(in.meta.ns, in.spec->database);
    in.lease_name = LeaseName(in.identity);
    if (in.spec->source.image) {
      in.source = SourceFromImage(*in.spec->source.image);
    } else {
      std::vector<json> cms;
      for (const auto& cm : caches_.config_maps->InNamespace(in.meta.ns)) cms.push_back(*cm);
      auto picked = SelectConfigMaps(in.spec->source, cms);
      if (picked.ok()) {
        in.source = SourceFromConfigMaps(*picked);
      } else {
        in.source = picked.status();
      }
    }
  }
  // The cache's objects, borrowed: the shared pointers keep them alive.
  const std::vector<kube::ObjectPtr> job_objects = caches_.jobs->InNamespace(in.meta.ns);
  const std::vector<kube::ObjectPtr> pod_objects = caches_.pods->InNamespace(in.meta.ns);
  std::vector<const json*> jobs, pods;
  for (const auto& job : job_objects) jobs.push_back(job.get());
  for (const auto& pod : pod_objects) pods.push_back(pod.get());
  PodAttribution pa = AttributePods(jobs, pods, in.meta.uid, in.meta.name);
  in.live_pods = std::move(pa.live_runner_pods);
  in.foreign_pods = std::move(pa.foreign_pods);
  for (const json* job : jobs) {
    if (!OwnedBy(*job, in.meta.uid)) continue;
    in.jobs.push_back(ObserveJob(*job, pa.pods_by_job_uid[(*job)["metadata"].value("uid", "")]));
  }
  return in;
}

StatusOr<kube::LeaseClaim*> Reconciler::Claim(const std::string& lease_name,
                                              const std::string& identity,
                                              const std::string& holder) {
  std::lock_guard<std::mutex> l(mu_);
  auto& slot = claims_[lease_name + "|" + holder];
  if (!slot.claim) {
    auto lock = std::make_unique<kube::KubeLeaseLock>(
        &client_->transport(), options_.operator_namespace, lease_name,
        json{{"app.kubernetes.io/managed-by", kManagedByValue}},
        // The Lease name is a hash; the identity is for people reading it.
        json{{kIdentityAnnotation, identity}});
    SG_ASSIGN_OR_RETURN(slot.claim, kube::LeaseClaim::New(std::move(lock), holder,
                                                          options_.database_lease, clock_));
    slot.identity = identity;
  }
  return slot.claim.get();
}

Status Reconciler::SetFinalizer(const Observed& in, bool present, std::string* rv) {
  std::vector<std::string> finalizers;
  for (const auto& f : in.meta.finalizers) {
    if (f != kFinalizer) finalizers.push_back(f);
  }
  if (present) finalizers.push_back(kFinalizer);
  // A merge patch replaces the whole list; the resourceVersion makes a
  // concurrent change of the list (another finalizer) a conflict, retried.
  json patch = {{"metadata", {{"resourceVersion", *rv}, {"finalizers", finalizers}}}};
  kube::PatchOptions po;
  po.field_manager = options_.field_manager;
  auto r = client_->Patch(kube::gvr::SchemaMigration(), in.meta.ns, in.meta.name,
                          kube::PatchType::kMerge, patch, po);
  if (!r.ok()) {
    // Already gone: nothing left to hold up.
    if (!present && r.status().code() == Code::kNotFound) return OkStatus();
    return r.status().WithContext(std::string(present ? "adding" : "removing") + " finalizer " +
                                  kFinalizer);
  }
  *rv = (*r)["metadata"].value("resourceVersion", *rv);
  return OkStatus();
}

void Reconciler::Forget(const std::string& ns, const std::string& name) {
  const std::string prefix = ns + "/" + name + "/";
  auto matches = [&](const std::string& key) {
    auto bar = key.find('|');
    return bar != std::string::npos && key.compare(bar + 1, prefix.size(), prefix) == 0;
  };
  std::vector<ClaimEntry> dropped;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = claims_.begin(); it != claims_.end();) {
      if (matches(it->first)) {
        dropped.push_back(std::move(it->second));
        it = claims_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = lease_wanted_since_.begin(); it != lease_wanted_since_.end();) {
      it = matches(it->first) ? lease_wanted_since_.erase(it) : std::next(it);
    }
  }
  for (auto& e : dropped) {
    if (!e.claim->Held()) continue;
    // Best effort: otherwise the Lease expires on its own.
    if (e.claim->Release().ok() && on_released_) on_released_(e.identity);
  }
}

Status Reconciler::ReleaseLease(const Observed& in) {
  SG_ASSIGN_OR_RETURN(kube::LeaseClaim * claim,
                      Claim(in.lease_name, in.identity, in.holder_identity));
  if (!claim->Held()) {
    // After a restart or failover our claim is fresh: release only a Lease
    // that still names this SchemaMigration.
    auto lease = client_->Get(kube::gvr::Lease(), options_.operator_namespace, in.lease_name);
    if (!lease.ok()) return lease.status().code() == Code::kNotFound ? OkStatus() : lease.status();
    std::string holder = (*lease)["spec"].value("holderIdentity", "");
    if (holder != in.holder_identity) return OkStatus();
    SG_ASSIGN_OR_RETURN(bool held, claim->TryAcquireOrRenew());
    if (!held) return OkStatus();
  }
  SG_RETURN_IF_ERROR(claim->Release());
  if (on_released_) on_released_(in.identity);
  return OkStatus();
}

void Reconciler::NoteLeaseWanted(const std::string& claim_key, bool held_now, bool newly_held) {
  if (!options_.metrics) return;
  std::lock_guard<std::mutex> l(mu_);
  auto it = lease_wanted_since_.find(claim_key);
  if (newly_held) {
    // Acquired at the first try: a wait of zero.
    double waited = 0;
    if (it != lease_wanted_since_.end()) {
      waited = std::chrono::duration<double>(clock_->Now() - it->second).count();
      lease_wanted_since_.erase(it);
    }
    options_.metrics->lease_wait->Observe(waited);
  } else if (!held_now && it == lease_wanted_since_.end()) {
    lease_wanted_since_.emplace(claim_key, clock_->Now());
  }
}

void Reconciler::RecordMetrics(const std::string& ns, const std::string& name,
                               const MigrationStatus& before, const MigrationStatus& after) const {
  if (!options_.metrics) return;
  if (after.last_job &&
      (after.last_job->result == "Succeeded" || after.last_job->result == "Failed")) {
    bool same = before.last_job && before.last_job->name == after.last_job->name &&
                before.last_job->result == after.last_job->result;
    if (!same) {
      std::string result = after.last_job->result == "Succeeded" ? "succeeded"
                           : after.Is("Stalled")                 ? "stalled"
                                                                 : "failed";
      double seconds = 0;
      auto start = ParseTime(after.last_job->start_time);
      auto end = ParseTime(after.last_job->completion_time);
      if (start && end && *end >= *start)
        seconds = std::chrono::duration<double>(*end - *start).count();
      options_.metrics->RecordRun(result, seconds);
    }
  }
  options_.metrics->RecordStatus(ns, name, after.applied_version.value_or(0), after.Is("Ready"));
}

void Reconciler::Record(const json& object, const Decision& d) {
  if (!recorder_) return;
  auto ref = kube::ObjectRef::From(object);
  for (const auto& e : d.events) {
    recorder_->Event(ref, e.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                     e.reason, "Migrate", e.message);
  }
}

ReconcileResult Reconciler::Reconcile(const std::string& ns, const std::string& name) {
  kube::ObjectPtr object = caches_.migrations->Get(ns, name);
  if (!object) {  // deleted
    if (options_.metrics) options_.metrics->Forget(ns, name);
    Forget(ns, name);
    return ReconcileResult::AwaitChange();
  }
  Observed in = Gather(*object);
  Decision d = Decide(in);
  // Every write below is guarded by the newest resourceVersion we know.
  std::string rv = in.meta.resource_version;
  if (d.finalizer == FinalizerAction::kAdd) {
    // Before the Lease: a deleted object must never leave it held.
    Status s = SetFinalizer(in, true, &rv);
    if (!s.ok()) return {s.WithContext(ns + "/" + name), {}};
    in.meta.finalizers.push_back(kFinalizer);
    in.meta.resource_version = rv;
  }
  bool new_claim = false;
  kube::LeaseClaim* stepped = nullptr;
  if (d.want_lease && !in.lease_name.empty()) {
    auto claim = Claim(in.lease_name, in.identity, in.holder_identity);
    if (!claim.ok()) return {claim.status(), std::nullopt};
    stepped = *claim;
    bool was_held = (*claim)->Held();
    auto held = (*claim)->TryAcquireOrRenew();
    if (!held.ok()) return {held.status().WithContext("database Lease " + in.lease_name), {}};
    new_claim = *held && !was_held;
    NoteLeaseWanted(in.lease_name + "|" + in.holder_identity, *held, new_claim);
    in.lease.tried = true;
    in.lease.held = *held;
    in.lease.holder = (*claim)->ObservedHolder();
    in.lease.fencing_token = (*claim)->FencingToken().value_or(0);
    auto next = (*claim)->NextAttemptAt() - clock_->Now();
    in.lease.retry_in = std::max<Clock::Duration>(next, std::chrono::seconds(1));
    d = Decide(in);
  }
  if (!in.meta.deleting && !(d.status == in.status)) {
    json patch = {{"metadata", {{"resourceVersion", rv}}}, {"status", StatusToJson(d.status)}};
    kube::PatchOptions po;
    po.field_manager = options_.field_manager;
    auto r = client_->PatchStatus(kube::gvr::SchemaMigration(), ns, name, kube::PatchType::kMerge,
                                  patch, po);
    // A conflict means our cache was stale: retry from the newer object.
    if (!r.ok()) return {r.status().WithContext("status of " + ns + "/" + name), {}};
    rv = (*r)["metadata"].value("resourceVersion", rv);
  }
  if (!in.meta.deleting) RecordMetrics(ns, name, in.status, d.status);
  Record(*object, d);
  for (const std::string& job_name : d.delete_jobs) {
    kube::DeleteOptions del;
    del.propagation = kube::PropagationPolicy::kBackground;  // pods get SIGTERM now
    Status s = client_->Delete(kube::gvr::Job(), ns, job_name, del);
    if (!s.ok() && s.code() != Code::kNotFound) {
      return {s.WithContext("deleting Job " + job_name), {}};
    }
  }
  if (d.create_job && in.spec.ok()) {
    // Only while the claim is verifiably held now: the status write above
    // may have taken a while (a fence token alone would stop the runner, but
    // a Job that starts after we lost the Lease is a Job too many).
    if (!stepped || !stepped->Held() || !may_act_()) {
      return {UnavailableError("database Lease " + in.lease_name +
                               " not held any more; not creating Job " + d.create_job->name),
              {}};
    }
    json job = BuildJob(in.meta, *in.spec, *d.create_job);
    kube::WriteOptions wo;
    wo.field_manager = options_.field_manager;
    auto r = client_->Create(kube::gvr::Job(), ns, job, wo);
    if (!r.ok() && r.status().code() != Code::kAlreadyExists) {
      return {r.status().WithContext("creating Job " + d.create_job->name), {}};
    }
  }
  if (d.release_lease) {
    // An unparsable spec has no identity: the status still names the Lease.
    if (in.lease_name.empty()) {
      in.lease_name = in.status.database.lease_name;
      in.identity = in.status.database.identity;
    }
    if (!in.lease_name.empty()) {
      Status s = ReleaseLease(in);
      if (!s.ok()) return {s.WithContext("releasing database Lease " + in.lease_name), {}};
    }
  }
  if (d.finalizer == FinalizerAction::kRemove) {
    Status s = SetFinalizer(in, false, &rv);
    if (!s.ok()) return {s.WithContext(ns + "/" + name), {}};
  }
  if (d.forget) Forget(ns, name);
  return {OkStatus(), d.requeue_after};
}

}  // namespace sg::controller
