// WaitDecision: given the current state of one SchemaMigration (or its
// absence), is a dependent workload done waiting, still waiting, or facing
// a failure a human must fix? Pure: no I/O, no clock.
//
// Ready (done) when all hold:
//   - the object exists and has no deletionTimestamp;
//   - status.observedGeneration == metadata.generation (the status describes
//     the current spec, so a new target never reads as a stale Ready);
//   - condition Ready has status "True" and, if it carries its own
//     observedGeneration, that equals metadata.generation too (what
//     `kubectl wait --for=condition=Ready` checks);
//   - with a minimum version: status.appliedVersion >= it.
// Stalled when not Ready, the status is current and condition Stalled is
// "True" (kstatus: Failed): the controller stopped retrying.
// Everything else is Waiting, with a one-line description of why.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sg::observe {

struct WaitCriteria {
  std::optional<std::int64_t> min_version;  // --min-version
};

struct WaitDecision {
  enum class State { kAbsent, kWaiting, kReady, kStalled };
  State state = State::kAbsent;
  // One line for progress output, e.g.
  //   "Ready=False Reconciling=True reason=JobRunning: Job app-5f2c running (applied 3)"
  //   "waiting for the controller to observe generation 2 (observed 1)"
  //   "ready: applied version 5"
  std::string detail;
};

// `object` null: the SchemaMigration does not exist (yet).
WaitDecision Decide(const nlohmann::json* object, const WaitCriteria& criteria);

// "Ready=False (JobRunning: ...), Reconciling=True (...), Stalled=False"
// for the conditions Ready, Reconciling and Stalled present in `object`.
std::string ConditionSummary(const nlohmann::json& object);

}  // namespace sg::observe
