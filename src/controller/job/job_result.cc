#include "controller/job/job_result.h"

#include <limits>
#include <optional>
#include <regex>

namespace sg::controller {

using nlohmann::json;

namespace {

// Typed, checked access: the runner's JSON comes from a termination message
// any pod can write, so every field may have any type (or be absent).
std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

template <typename Int>
std::optional<Int> IntField(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) {
    auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<Int>::max())) return std::nullopt;
    return static_cast<Int>(v);
  }
  auto v = it->get<int64_t>();
  if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
    return std::nullopt;
  }
  return static_cast<Int>(v);
}

bool ConditionTrue(const json& job, const char* type, json* out = nullptr) {
  if (!job.is_object() || !job.contains("status") || !job["status"].is_object() ||
      !job["status"].contains("conditions") || !job["status"]["conditions"].is_array()) {
    return false;
  }
  for (const auto& c : job["status"]["conditions"]) {
    if (Str(c, "type") == type && Str(c, "status") == "True") {
      if (out) *out = c;
      return true;
    }
  }
  return false;
}

// The terminated state of the "migrate" container of the pod that ended
// last (pods are retried by the Job; the latest attempt tells the result).
std::optional<json> LastTermination(const std::vector<json>& pods) {
  std::optional<json> best;
  std::string best_time;
  for (const auto& pod : pods) {
    if (!pod.is_object() || !pod.contains("status") || !pod["status"].is_object()) continue;
    const json& st = pod["status"];
    if (!st.contains("containerStatuses") || !st["containerStatuses"].is_array()) continue;
    for (const auto& cs : st["containerStatuses"]) {
      if (Str(cs, "name") != "migrate") continue;
      if (!cs.contains("state") || !cs["state"].is_object()) continue;
      if (!cs["state"].contains("terminated") || !cs["state"]["terminated"].is_object()) continue;
      const json& t = cs["state"]["terminated"];
      std::string at = Str(t, "finishedAt");
      if (!best || at >= best_time) {
        best = t;
        best_time = at;
      }
    }
  }
  return best;
}

// Waiting reasons that mean "this pod will not start by itself soon"; the
// ordinary ones (ContainerCreating, PodInitializing) are not listed.
bool StuckReason(const std::string& r) {
  static const char* const kStuck[] = {
      "CreateContainerConfigError", "CreateContainerError", "ErrImagePull",
      "ImagePullBackOff",           "InvalidImageName",     "ErrImageNeverPull",
      "RunContainerError",          "CrashLoopBackOff"};
  for (const char* k : kStuck) {
    if (r == k) return true;
  }
  return false;
}

// Why `pod` cannot start, or false.
bool StuckPod(const json& pod, std::string* reason, std::string* message) {
  if (!pod.is_object() || !pod.contains("status") || !pod["status"].is_object()) return false;
  const json& st = pod["status"];
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    if (!st.contains(list) || !st[list].is_array()) continue;
    for (const auto& cs : st[list]) {
      if (!cs.is_object() || !cs.contains("state") || !cs["state"].is_object()) continue;
      const json& state = cs["state"];
      if (!state.contains("waiting") || !state["waiting"].is_object()) continue;
      std::string r = Str(state["waiting"], "reason");
      if (!StuckReason(r)) continue;
      *reason = r;
      *message = Str(state["waiting"], "message");
      return true;
    }
  }
  if (st.contains("conditions") && st["conditions"].is_array()) {
    for (const auto& c : st["conditions"]) {
      if (Str(c, "type") == "PodScheduled" && Str(c, "status") == "False" &&
          Str(c, "reason") == "Unschedulable") {
        *reason = "Unschedulable";
        *message = Str(c, "message");
        return true;
      }
    }
  }
  return false;
}

}  // namespace

JobOutcome ObserveJob(const json& job, const std::vector<json>& pods) {
  JobOutcome o;
  static const json kEmpty = json::object();
  const json& md = job.is_object() && job.contains("metadata") ? job["metadata"] : kEmpty;
  o.name = Str(md, "name");
  if (md.contains("annotations") && md["annotations"].is_object()) {
    try {
      o.fence_token = std::stoll(Str(md["annotations"], "schemagate.dev/fence-token"));
    } catch (...) {
      o.fence_token = 0;
    }
  }
  const json& st = job.is_object() && job.contains("status") ? job["status"] : kEmpty;
  o.start_time = Str(st, "startTime");
  o.completion_time = Str(st, "completionTime");
  json failed;
  if (ConditionTrue(job, "Complete")) {
    o.phase = JobPhase::kSucceeded;
  } else if (ConditionTrue(job, "Failed", &failed)) {
    o.phase = JobPhase::kFailed;
    o.job_reason = Str(failed, "reason");
    o.job_message = Str(failed, "message");
    if (o.completion_time.empty()) o.completion_time = Str(failed, "lastTransitionTime");
  }
  if (auto t = LastTermination(pods)) {
    o.exit_code = IntField<int32_t>(*t, "exitCode");
    std::string msg = Str(*t, "message");
    json parsed = json::parse(msg, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) o.runner = parsed;
  }
  if (!o.exit_code) o.exit_code = IntField<int32_t>(o.runner, "exit_code");
  if (!o.exit_code && o.phase == JobPhase::kFailed) {
    // Pod already gone: the PodFailurePolicy message names the exit code.
    static const std::regex kCode(R"(exit code ([0-9]+))");
    std::smatch m;
    if (std::regex_search(o.job_message, m, kCode) && m[1].length() < 10) {
      o.exit_code = std::stoi(m[1].str());
    }
  }
  if (o.phase == JobPhase::kSucceeded && !o.exit_code) o.exit_code = 0;
  if (o.phase == JobPhase::kActive) {
    std::string newest;
    for (const auto& pod : pods) {
      std::string reason, message;
      if (!StuckPod(pod, &reason, &message)) continue;
      const json& pmd = pod.contains("metadata") ? pod["metadata"] : kEmpty;
      std::string created = Str(pmd, "creationTimestamp");
      if (!o.waiting_reason.empty() && created < newest) continue;
      newest = created;
      o.waiting_reason = reason;
      o.waiting_message = message;
      o.waiting_pod = Str(pmd, "name");
    }
  }
  return o;
}

std::string JobOutcome::Reason() const {
  if (runner.is_object() && runner.contains("error")) {
    std::string r = Str(runner["error"], "reason");
    if (!r.empty()) return r;
  }
  if (job_reason == "DeadlineExceeded") return "DeadlineExceeded";
  if (exit_code) {
    switch (*exit_code) {
      case 0:
        return "Succeeded";
      case 2:
        return "InvalidInput";
      case 3:
        return "MigrationFailed";
      case 4:
        return "ChecksumMismatch";
      case 5:
        return "LockNotObtained";
      case 6:
        return "NeedsRepair";
      case 7:
        return "ConnectionFailed";
      case 8:
        return "Interrupted";
      default:
        return "InternalError";
    }
  }
  return job_reason.empty() ? "JobFailed" : job_reason;
}

std::string JobOutcome::Summary() const {
  if (runner.is_object() && runner.contains("error") && runner["error"].is_object()) {
    const json& e = runner["error"];
    std::string out;
    std::string file = Str(e, "file");
    std::string msg = Str(e, "message");
    // The runner's own message is already a whole sentence naming the file,
    // line and SQLSTATE; prefixing them again only repeats it.
    if (!file.empty() && msg.find(file) != std::string::npos) return msg;
    if (!file.empty()) out += file;
    if (auto v = IntField<int64_t>(e, "version")) {
      out +=
          (out.empty() ? "version " : " (version ") + std::to_string(*v) + (out.empty() ? "" : ")");
    }
    if (auto line = IntField<int64_t>(e, "line")) out += " line " + std::to_string(*line);
    std::string sqlstate = Str(e, "sqlstate");
    if (!sqlstate.empty()) out += (out.empty() ? "" : ": ") + std::string("SQLSTATE ") + sqlstate;
    if (!msg.empty()) out += (out.empty() ? "" : ": ") + msg;
    return out;
  }
  if (!job_message.empty()) return job_message;
  if (exit_code) return "runner exited with code " + std::to_string(*exit_code);
  return "";
}

std::optional<int64_t> JobOutcome::CurrentVersion() const {
  return IntField<int64_t>(runner, "current_version");
}

std::optional<int64_t> JobOutcome::TargetVersion() const {
  return IntField<int64_t>(runner, "target_version");
}

std::optional<int32_t> JobOutcome::PendingCount() const {
  return IntField<int32_t>(runner, "pending_count");
}

int32_t JobOutcome::AppliedCount() const {
  if (auto n = IntField<int32_t>(runner, "applied_count")) return *n;
  if (runner.is_object() && runner.contains("applied") && runner["applied"].is_array()) {
    return static_cast<int32_t>(runner["applied"].size());
  }
  return 0;
}

}  // namespace sg::controller
