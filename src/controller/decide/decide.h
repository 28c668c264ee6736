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
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
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
  int32_t fencing_token = 0;
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
  LeaseView lease;
  Clock::WallTime now;
  std::string default_image;
};

struct EventNote {
  bool warning = false;
  std::string reason;
  std::string message;
};

struct Decision {
  MigrationStatus status;
  bool want_lease = false;     // acquire or renew the database Lease
  bool release_lease = false;  // no Job of ours runs: free the Lease
  std::optional<JobPlan> create_job;
  std::optional<Clock::Duration> requeue_after;  // nullopt: wait for a change
  std::vector<EventNote> events;
};

Decision Decide(const Observed& in);

// Retry delay after the n-th consecutive retryable failure (n >= 1):
// 10 s doubling, capped at 5 min.
Clock::Duration RetryBackoff(int32_t failures);
// Exit codes that need a human (no retry): 2, 3, 4, 6.
bool IsTerminalExitCode(int32_t code);

}  // namespace sg::controller
