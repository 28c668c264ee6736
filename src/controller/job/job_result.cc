#include "controller/job/job_result.h"

#include <regex>

namespace sg::controller {

using nlohmann::json;

namespace {

bool ConditionTrue(const json& job, const char* type, json* out = nullptr) {
  if (!job.contains("status") || !job["status"].contains("conditions")) return false;
  for (const auto& c : job["status"]["conditions"]) {
    if (c.value("type", "") == type && c.value("status", "") == "True") {
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
    if (!pod.contains("status") || !pod["status"].contains("containerStatuses")) continue;
    for (const auto& cs : pod["status"]["containerStatuses"]) {
      if (cs.value("name", "") != "migrate") continue;
      if (!cs.contains("state") || !cs["state"].contains("terminated")) continue;
      const json& t = cs["state"]["terminated"];
      std::string at = t.value("finishedAt", "");
      if (!best || at >= best_time) {
        best = t;
        best_time = at;
      }
    }
  }
  return best;
}

}  // namespace

JobOutcome ObserveJob(const json& job, const std::vector<json>& pods) {
  JobOutcome o;
  const json& md = job["metadata"];
  o.name = md.value("name", "");
  if (md.contains("annotations") && md["annotations"].is_object()) {
    try {
      o.fence_token = std::stoll(md["annotations"].value("schemagate.dev/fence-token", "0"));
    } catch (...) {
      o.fence_token = 0;
    }
  }
  const json st = job.value("status", json::object());
  o.start_time = st.value("startTime", "");
  o.completion_time = st.value("completionTime", "");
  json failed;
  if (ConditionTrue(job, "Complete")) {
    o.phase = JobPhase::kSucceeded;
  } else if (ConditionTrue(job, "Failed", &failed)) {
    o.phase = JobPhase::kFailed;
    o.job_reason = failed.value("reason", "");
    o.job_message = failed.value("message", "");
    if (o.completion_time.empty()) o.completion_time = failed.value("lastTransitionTime", "");
  }
  if (auto t = LastTermination(pods)) {
    if ((*t).contains("exitCode") && (*t)["exitCode"].is_number_integer())
      o.exit_code = (*t)["exitCode"].get<int32_t>();
    std::string msg = (*t).value("message", "");
    json parsed = json::parse(msg, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) o.runner = parsed;
  }
  if (!o.exit_code && o.runner.is_object() && o.runner.contains("exit_code") &&
      o.runner["exit_code"].is_number_integer()) {
    o.exit_code = o.runner["exit_code"].get<int32_t>();
  }
  if (!o.exit_code && o.phase == JobPhase::kFailed) {
    // Pod already gone: the PodFailurePolicy message names the exit code.
    static const std::regex kCode(R"(exit code ([0-9]+))");
    std::smatch m;
    if (std::regex_search(o.job_message, m, kCode)) o.exit_code = std::stoi(m[1].str());
  }
  if (o.phase == JobPhase::kSucceeded && !o.exit_code) o.exit_code = 0;
  return o;
}

std::string JobOutcome::Reason() const {
  if (runner.is_object() && runner.contains("error") && runner["error"].is_object()) {
    std::string r = runner["error"].value("reason", "");
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
    std::string file = e.value("file", "");
    std::string msg = e.value("message", "");
    // The runner's own message is already a whole sentence naming the file,
    // line and SQLSTATE; prefixing them again only repeats it.
    if (!file.empty() && msg.find(file) != std::string::npos) return msg;
    if (!file.empty()) out += file;
    if (e.contains("version") && e["version"].is_number_integer()) {
      out += (out.empty() ? "version " : " (version ") +
             std::to_string(e["version"].get<int64_t>()) + (out.empty() ? "" : ")");
    }
    if (e.contains("line") && e["line"].is_number_integer()) {
      out += " line " + std::to_string(e["line"].get<int64_t>());
    }
    std::string sqlstate = e.value("sqlstate", "");
    if (!sqlstate.empty()) out += (out.empty() ? "" : ": ") + std::string("SQLSTATE ") + sqlstate;
    if (!msg.empty()) out += (out.empty() ? "" : ": ") + msg;
    return out;
  }
  if (!job_message.empty()) return job_message;
  if (exit_code) return "runner exited with code " + std::to_string(*exit_code);
  return "";
}

std::optional<int64_t> JobOutcome::CurrentVersion() const {
  if (runner.is_object() && runner.contains("current_version") &&
      runner["current_version"].is_number_integer()) {
    return runner["current_version"].get<int64_t>();
  }
  return std::nullopt;
}

std::optional<int64_t> JobOutcome::TargetVersion() const {
  if (runner.is_object() && runner.contains("target_version") &&
      runner["target_version"].is_number_integer()) {
    return runner["target_version"].get<int64_t>();
  }
  return std::nullopt;
}

std::optional<int32_t> JobOutcome::PendingCount() const {
  if (runner.is_object() && runner.contains("pending_count") &&
      runner["pending_count"].is_number_integer()) {
    return runner["pending_count"].get<int32_t>();
  }
  return std::nullopt;
}

int32_t JobOutcome::AppliedCount() const {
  if (!runner.is_object()) return 0;
  if (runner.contains("applied_count") && runner["applied_count"].is_number_integer())
    return runner["applied_count"].get<int32_t>();
  if (runner.contains("applied") && runner["applied"].is_array()) {
    return static_cast<int32_t>(runner["applied"].size());
  }
  return 0;
}

}  // namespace sg::controller
