#include "controller/job/pod_attribution.h"

#include "controller/api/schema_migration.h"

namespace sg::controller {

using nlohmann::json;

namespace {

const json* Field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringField(const json& object, const char* key) {
  const json* v = Field(object, key);
  return v && v->is_string() ? v->get<std::string>() : "";
}

std::string NameOf(const json& object) {
  const json* md = Field(object, "metadata");
  return md ? StringField(*md, "name") : "";
}

// The uid of the Job that controls `pod`, "" if none.
std::string ControllingJobUid(const json& pod) {
  const json* md = Field(pod, "metadata");
  const json* refs = md ? Field(*md, "ownerReferences") : nullptr;
  if (!refs || !refs->is_array()) return "";
  for (const auto& r : *refs) {
    const json* controller = Field(r, "controller");
    if (!controller || !controller->is_boolean() || !controller->get<bool>()) continue;
    if (StringField(r, "kind") == "Job") return StringField(r, "uid");
  }
  return "";
}

bool RunnerOf(const json& pod, const std::string& migration) {
  const json* md = Field(pod, "metadata");
  const json* labels = md ? Field(*md, "labels") : nullptr;
  return labels && StringField(*labels, kMigrationLabel) == migration;
}

bool Terminated(const json& pod) {
  const json* status = Field(pod, "status");
  std::string phase = status ? StringField(*status, "phase") : "";
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

bool OwnedBy(const json& object, const std::string& uid) {
  const json* md = Field(object, "metadata");
  const json* refs = md ? Field(*md, "ownerReferences") : nullptr;
  if (!refs || !refs->is_array() || uid.empty()) return false;
  for (const auto& r : *refs) {
    if (StringField(r, "uid") == uid) return true;
  }
  return false;
}

PodAttribution AttributePods(const std::vector<const json*>& jobs,
                             const std::vector<const json*>& pods, const std::string& migration_uid,
                             const std::string& migration) {
  PodAttribution a;
  for (const json* job_ptr : jobs) {
    const json& job = *job_ptr;
    if (!OwnedBy(job, migration_uid)) continue;
    const json* md = Field(job, "metadata");
    std::string uid = md ? StringField(*md, "uid") : "";
    if (!uid.empty()) a.pods_by_job_uid[uid];
  }
  for (const json* pod_ptr : pods) {
    const json& pod = *pod_ptr;
    auto ours = a.pods_by_job_uid.find(ControllingJobUid(pod));
    if (ours != a.pods_by_job_uid.end()) ours->second.push_back(pod);
    if (!RunnerOf(pod, migration)) continue;
    if (!Terminated(pod)) {
      a.live_runner_pods.push_back(NameOf(pod));
    } else if (ours == a.pods_by_job_uid.end()) {
      a.foreign_pods.push_back(NameOf(pod));
    }
  }
  return a;
}

}  // namespace sg::controller
