#include "controller/api/migration_status.h"

#include <ctime>

#include "kube/lease/lease_record.h"

namespace sg::controller {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

template <typename T>
std::optional<T> OptInt(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return j[key].get<T>();
}

}  // namespace

const Condition* MigrationStatus::Find(const std::string& type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool MigrationStatus::Is(const std::string& type) const {
  const Condition* c = Find(type);
  return c && c->status == "True";
}

void MigrationStatus::Set(const std::string& type, bool status, const std::string& reason,
                          const std::string& message, int64_t generation, const std::string& now) {
  std::string s = status ? "True" : "False";
  for (auto& c : conditions) {
    if (c.type != type) continue;
    if (c.status != s) c.last_transition_time = now;
    c.status = s;
    c.reason = reason;
    c.message = message.substr(0, 32768);
    c.observed_generation = generation;
    return;
  }
  conditions.push_back({type, s, generation, now, reason, message.substr(0, 32768)});
}

MigrationStatus StatusFromJson(const json& j) {
  MigrationStatus s;
  if (!j.is_object()) return s;
  s.observed_generation = OptInt<int64_t>(j, "observedGeneration").value_or(0);
  if (j.contains("conditions") && j["conditions"].is_array()) {
    for (const auto& c : j["conditions"]) {
      if (!c.is_object()) continue;
      s.conditions.push_back({Str(c, "type"), Str(c, "status"),
                              OptInt<int64_t>(c, "observedGeneration").value_or(0),
                              Str(c, "lastTransitionTime"), Str(c, "reason"), Str(c, "message")});
    }
  }
  s.applied_version = OptInt<int64_t>(j, "appliedVersion");
  s.target_version = OptInt<int64_t>(j, "targetVersion");
  s.pending_count = OptInt<int32_t>(j, "pendingCount");
  s.source_checksum = Str(j, "sourceChecksum");
  s.retry_handled = Str(j, "retryHandled");
  s.attempt = OptInt<int32_t>(j, "attempt").value_or(0);
  s.failures = OptInt<int32_t>(j, "failures").value_or(0);
  s.next_retry_time = Str(j, "nextRetryTime");
  if (j.contains("database") && j["database"].is_object()) {
    const json& d = j["database"];
    s.database = {Str(d, "identity"), Str(d, "leaseName"), Str(d, "leaseHolder")};
  }
  if (j.contains("lastJob") && j["lastJob"].is_object()) {
    const json& l = j["lastJob"];
    s.last_job =
        LastJob{Str(l, "name"),      Str(l, "result"),         OptInt<int32_t>(l, "exitCode"),
                Str(l, "startTime"), Str(l, "completionTime"), Str(l, "message")};
  }
  return s;
}

json StatusToJson(const MigrationStatus& s) {
  json j = json::object();
  j["observedGeneration"] = s.observed_generation;
  json conds = json::array();
  for (const auto& c : s.conditions) {
    conds.push_back({{"type", c.type},
                     {"status", c.status},
                     {"observedGeneration", c.observed_generation},
                     {"lastTransitionTime", c.last_transition_time},
                     {"reason", c.reason},
                     {"message", c.message}});
  }
  j["conditions"] = conds;
  // Merge patch: absent optionals are written as null so they are removed.
  j["appliedVersion"] = s.applied_version ? json(*s.applied_version) : json(nullptr);
  j["targetVersion"] = s.target_version ? json(*s.target_version) : json(nullptr);
  j["pendingCount"] = s.pending_count ? json(*s.pending_count) : json(nullptr);
  j["sourceChecksum"] = s.source_checksum;
  j["retryHandled"] = s.retry_handled.empty() ? json(nullptr) : json(s.retry_handled);
  j["attempt"] = s.attempt;
  j["failures"] = s.failures;
  j["nextRetryTime"] = s.next_retry_time.empty() ? json(nullptr) : json(s.next_retry_time);
  j["database"] = {{"identity", s.database.identity},
                   {"leaseName", s.database.lease_name},
                   {"leaseHolder", s.database.lease_holder}};
  if (s.last_job) {
    const LastJob& l = *s.last_job;
    json lj = {{"name", l.name}, {"result", l.result}, {"message", l.message}};
    lj["exitCode"] = l.exit_code ? json(*l.exit_code) : json(nullptr);
    lj["startTime"] = l.start_time.empty() ? json(nullptr) : json(l.start_time);
    lj["completionTime"] = l.completion_time.empty() ? json(nullptr) : json(l.completion_time);
    j["lastJob"] = lj;
  } else {
    j["lastJob"] = nullptr;
  }
  return j;
}

std::string FormatTime(Clock::WallTime t) {
  std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<Clock::WallTime> ParseTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto t = kube::ParseMicroTime(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

}  // namespace sg::controller
