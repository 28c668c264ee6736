// Which pods speak for which Job of a SchemaMigration. A pod is attributed
// to a Job only by the Job's controller ownerReference uid (set by the Job
// controller, not by whoever creates the pod), never by labels: anyone who
// may create pods in the namespace can copy the labels, and a pod's
// termination message sets the version `schemagate wait` gates on.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg::controller {

struct PodAttribution {
  // For each Job owned by the SchemaMigration (by its uid): its pods.
  std::map<std::string, std::vector<nlohmann::json>> pods_by_job_uid;
  // Pods labelled as the SchemaMigration's runners that have not terminated,
  // whoever controls them: an orphaned runner still migrates, so the
  // database Lease is kept for it.
  std::vector<std::string> live_runner_pods;
  // Terminated pods with the runner labels that no Job of the
  // SchemaMigration controls: their results are ignored.
  std::vector<std::string> foreign_pods;
};

// `jobs` and `pods`: the namespace's (any order, any content; borrowed, so
// the cache's objects are not copied, only the pods of our Jobs are); the
// SchemaMigration's uid and name.
PodAttribution AttributePods(const std::vector<const nlohmann::json*>& jobs,
                             const std::vector<const nlohmann::json*>& pods,
                             const std::string& migration_uid, const std::string& migration);

// Whether the object has an ownerReference with this uid.
bool OwnedBy(const nlohmann::json& object, const std::string& uid);

}  // namespace sg::controller
