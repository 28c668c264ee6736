// Reconciler: one SchemaMigration, level-based (controller-runtime style).
// Reads the object by key from the informer caches, gathers the observed
// state (source ConfigMaps, owned Jobs and their pods, the database Lease),
// asks Decide() what to do and does it: patch status (guarded by the
// object's resourceVersion, so a stale cache can never overwrite newer
// status: a conflict is an error and the key is retried), create the Job
// (AlreadyExists = adopted), release the Lease. Idempotent.
//
// Order within one pass: finalizer added (when a Lease is wanted) -> Lease
// step -> status -> Job create -> Lease release -> finalizer removed ->
// bookkeeping forgotten (deleted objects). The status is written before the
// Job is created, so Ready is False before any new Job starts; the
// finalizer is on the object before it can hold a Lease.
//
// Thread-safety: Reconcile may run on several workers at once for
// different keys (the WorkQueue never hands out one key twice).
// Ownership: borrows client, caches, clock and recorder.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "controller/decide/decide.h"
#include "controller/resource_cache.h"
#include "kube/client/client.h"
#include "kube/events/event_recorder.h"
#include "kube/lease/lease_claim.h"
#include "observe/controller_metrics/controller_metrics.h"

namespace sg::controller {

struct ReconcilerOptions {
  std::string operator_namespace = "schemagate-system";
  std::string job_image = "schemagate:dev";
  kube::LeaseTimings database_lease{std::chrono::seconds(60), std::chrono::seconds(40),
                                    std::chrono::seconds(15)};
  std::string field_manager = "schemagate-controller";
  // A Ready object is re-verified by a new Job this long after its last Job
  // ended (0 = never).
  Clock::Duration recheck_interval = std::chrono::minutes(10);
  // A Job whose pod cannot start (missing Secret, image pull error,
  // unschedulable) is given up this long after it started.
  Clock::Duration job_start_timeout = std::chrono::seconds(60);
  // What a SchemaMigration may ask of its pod (images, service account).
  JobPolicy job_policy;
  // Optional (borrowed): finished runs and their durations, applied version
  // and readiness per object, time from wanting a database Lease to holding it.
  const observe::ControllerMetrics* metrics = nullptr;
};

struct Caches {
  ResourceCache* migrations;
  ResourceCache* config_maps;
  ResourceCache* jobs;
  ResourceCache* pods;
};

// What the worker does with the key afterwards (kube-rs's Action).
struct ReconcileResult {
  Status status;                                 // non-OK: rate-limited retry
  std::optional<Clock::Duration> requeue_after;  // nullopt: await a change
  static ReconcileResult AwaitChange() { return {}; }
};

class Reconciler {
 public:
  Reconciler(kube::Client* client, Caches caches, Clock* clock, ReconcilerOptions options,
             kube::EventRecorder* recorder);
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  ReconcileResult Reconcile(const std::string& ns, const std::string& name);

  // Called after a database Lease was released (identity), so waiters on
  // the same database can be woken at once.
  void SetOnLeaseReleased(std::function<void(const std::string& identity)> fn) {
    on_released_ = std::move(fn);
  }
  // Asked right before a Job is created: false once this process stopped
  // leading (set by the Controller; default: always true).
  void SetMayAct(std::function<bool()> fn) { may_act_ = std::move(fn); }

 private:
  Observed Gather(const nlohmann::json& object);
  StatusOr<kube::LeaseClaim*> Claim(const std::string& lease_name, const std::string& identity,
                                    const std::string& holder);
  Status ReleaseLease(const Observed& in);
  // Adds or removes kFinalizer with a merge patch guarded by *rv (updated).
  Status SetFinalizer(const Observed& in, bool present, std::string* rv);
  // Drops the claims and Lease-wait entries of ns/name (any uid); a claim
  // still held (an object deleted without our finalizer) is released first.
  void Forget(const std::string& ns, const std::string& name);
  void Record(const nlohmann::json& object, const Decision& d);
  // Metrics for a status just stored (or unchanged): a newly finished Job
  // counts once, when its result first reaches the status.
  void RecordMetrics(const std::string& ns, const std::string& name, const MigrationStatus& before,
                     const MigrationStatus& after) const;
  // Lease wait: the first time a claim was wanted and not held.
  void NoteLeaseWanted(const std::string& claim_key, bool held_now, bool newly_held);

  kube::Client* const client_;
  const Caches caches_;
  Clock* const clock_;
  const ReconcilerOptions options_;
  kube::EventRecorder* const recorder_;
  std::function<void(const std::string&)> on_released_;
  std::function<bool()> may_act_ = [] { return true; };

  std::mutex mu_;
  struct ClaimEntry {
    std::unique_ptr<kube::LeaseClaim> claim;
    std::string identity;  // the database, to wake its waiters on release
  };
  std::map<std::string, ClaimEntry> claims_;                    // lease|holder
  std::map<std::string, Clock::TimePoint> lease_wanted_since_;  // lease|holder
};

}  // namespace sg::controller
