// Decide: the controller's decisions as one pure function. Observed state of
// one SchemaMigration goes in (its metadata and previous status, the parsed
// spec, the source, its Jobs, the database Lease, the time); the desired
// status and the actions to take come out. The reconciler only gathers the
// inputs and executes the outputs, so every rule of docs/controller.md is
// unit-tested here without a cluster.
//
// Lease protocol: Decide never touches the Lease. When a Job must start or
// is running it sets want_lease; the reconciler then steps the LeaseClaim
// and calls Decide again with `lease.tried` set. Only a decision made with
// the Lease held may create a Job.
//
// Finalizer (kFinalizer): wanted exactly while the SchemaMigration wants the
// Lease (a Job is to start, runs, or waits for the Lease). Added before the
// Lease is tried, removed once nothing is wanted (after releasing the Lease
// if it still names us).
//
// The Lease outlives the runner: it is released only when no pod of this
// SchemaMigration's Jobs is still running (live_pods, found by label, so an
// orphaned pod of a deleted Job counts), whatever happened to the Job. On
// deletion: delete the active Jobs (their runners stop within 2 s of
// SIGTERM), keep renewing while a pod runs, then release, forget the
// bookkeeping and remove the finalizer; after kDeletionPodWait the wait
// gives up with a Warning (the fence still stops that runner from
// committing). A Job whose Lease another holder took is deleted.
//
// A Job whose pod cannot start (missing Secret or key, image pull error,
// unschedulable) is Reconciling with the pod's own reason and message at
// once (one Warning Event); after job_start_timeout it is deleted, the
// object Stalled with that reason, the Lease given back once the pod is
// gone, and a new attempt made after the usual backoff (Stalled meanwhile),
// so a fixed Secret recovers by itself.
//
// Recheck: with recheck_interval > 0, a Ready object whose last Job ended
// that long ago runs a new Job (a new attempt) to re-verify the database. A
// recheck keeps Ready/Reconciling/Stalled as they are (waiters see no
// change) unless it finds a problem: a terminal failure (drift, tampering)
// stalls it; a retryable one is retried with the usual backoff, still Ready.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/api/job_policy.h"
#include "controller/api/migration_status.h"
#include "controller/api/schema_migration.h"
#include "controller/job/job_builder.h"
#include "controller/job/job_result.h"
#include "controller/source/source_info.h"

namespace sg::controller {

struct LeaseView {
  bool tried = false;  // the reconciler stepped the claim for this decision
  bool held = false;   // we (this SchemaMigration) hold it now
  std::string holder;  // observed holder ("" = free or unknown)
  int64_t fencing_token = 0;
  Clock::Duration retry_in = std::chrono::seconds(15);  // next step due in
};

struct Observed {
  ObjectMeta meta;
  MigrationStatus status;  // as stored
  StatusOr<SchemaMigrationSpec> spec = InvalidError("spec: not parsed");
  // The source; kNotFound / kInvalid become Stalled with the message.
  StatusOr<SourceInfo> source = NotFoundError("source: not read");
  std::string identity;
  std::string lease_name;
  std::string holder_identity;  // HolderIdentity(meta)
  // Every Job owned by this SchemaMigration, as observed.
  std::vector<JobOutcome> jobs;
  // Pods labelled as this SchemaMigration's runners that have not
  // terminated (phase neither Succeeded nor Failed), Job or no Job.
  std::vector<std::string> live_pods;
  // Terminated pods labelled as its runners that no Job of this
  // SchemaMigration controls (a Job since deleted, or a forgery): their
  // results are ignored, and said so in a Warning Event.
  std::vector<std::string> foreign_pods;
  LeaseView lease;
  Clock::WallTime now;
  std::string default_image;
  Clock::Duration recheck_interval{0};  // 0: never re-verify a Ready object
  // A Job whose pod cannot start (JobOutcome::waiting_reason) this long
  // after the Job started is deleted, Stalled, and retried with backoff.
  Clock::Duration job_start_timeout = std::chrono::seconds(60);
  JobPolicy policy;  // what the spec may ask of the pod (PolicyViolation)
};

struct EventNote {
  bool warning = false;
  std::string reason;
  std::string message;
};

enum class FinalizerAction { kNone, kAdd, kRemove };

struct Decision {
  MigrationStatus status;
  // kAdd before the Lease is stepped; kRemove after the release (if any).
  FinalizerAction finalizer = FinalizerAction::kNone;
  bool forget = false;         // being deleted: drop the claim and Lease-wait entries
  bool want_lease = false;     // acquire or renew the database Lease
  bool release_lease = false;  // no Job of ours runs: free the Lease
  std::optional<JobPlan> create_job;
  std::vector<std::string> delete_jobs;          // background propagation: pods get SIGTERM
  std::optional<Clock::Duration> requeue_after;  // nullopt: wait for a change
  std::vector<EventNote> events;
};

Decision Decide(const Observed& in);

// How long a deleted SchemaMigration keeps its Lease for a runner pod that
// does not terminate (a node that went away): then it is released anyway.
inline constexpr Clock::Duration kDeletionPodWait = std::chrono::minutes(2);

// When a Ready object with this status is due for a recheck: its last Job's
// completion (else start, else Ready's transition) plus `interval`.
std::optional<Clock::WallTime> RecheckDue(const MigrationStatus& status, Clock::Duration interval);

// Retry delay after the n-th consecutive retryable failure (n >= 1):
// 10 s doubling, capped at 5 min.
Clock::Duration RetryBackoff(int32_t failures);
// Exit codes that need a human (no retry): 2, 3, 4, 6.
bool IsTerminalExitCode(int32_t code);

}  // namespace sg::controller
