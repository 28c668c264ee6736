// Reads a migration Job's outcome from the Job and its pods: finished or
// not, the runner's exit code and its compact JSON result (the container's
// termination message, docs/runner.md), and a one-line summary naming file,
// version and SQLSTATE.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg::controller {

enum class JobPhase { kActive, kSucceeded, kFailed };

struct JobOutcome {
  std::string name;
  JobPhase phase = JobPhase::kActive;
  std::optional<int32_t> exit_code;
  nlohmann::json runner;   // parsed runner JSON, null if none
  std::string job_reason;  // Failed condition reason: DeadlineExceeded, PodFailurePolicy, ...
  std::string job_message;
  std::string start_time;
  std::string completion_time;
  int64_t fence_token = 0;
  // Why a pod of the Job cannot start, from the newest such pod: a waiting
  // container (CreateContainerConfigError, ErrImagePull, ImagePullBackOff,
  // ...) or PodScheduled=False (Unschedulable). "" when none is stuck.
  std::string waiting_reason;
  std::string waiting_message;
  std::string waiting_pod;

  // runner.error.reason, else a reason derived from the Job.
  std::string Reason() const;
  // "0002_break.up.sql (version 2): SQLSTATE 42P01: relation ... does not exist".
  std::string Summary() const;
  std::optional<int64_t> CurrentVersion() const;  // runner.current_version
  // runner.target_version: the version `up` aimed at (the newest in the
  // source when no --target was given); learns an image's newest version.
  std::optional<int64_t> TargetVersion() const;
  // runner.pending_count: versions up to the target still not applied.
  std::optional<int32_t> PendingCount() const;
  int32_t AppliedCount() const;  // applied[] or applied_count
};

// `job` is a batch/v1 Job; `pods` its pods (any order).
JobOutcome ObserveJob(const nlohmann::json& job, const std::vector<nlohmann::json>& pods);

}  // namespace sg::controller
