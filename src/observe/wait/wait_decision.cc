#include "observe/wait/wait_decision.h"

namespace sg::observe {
namespace {

using nlohmann::json;

std::optional<std::int64_t> Int(const json& j, const char* a, const char* b = nullptr) {
  const json* p = &j;
  for (const char* k : {a, b}) {
    if (!k) break;
    if (!p->is_object() || !p->contains(k)) return std::nullopt;
    p = &(*p)[k];
  }
  if (p->is_number_integer()) return p->get<std::int64_t>();
  if (p->is_number_unsigned()) return static_cast<std::int64_t>(p->get<std::uint64_t>());
  return std::nullopt;
}

std::string Str(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

const json* Condition(const json& object, const std::string& type) {
  if (!object.contains("status") || !object["status"].is_object()) return nullptr;
  const json& status = object["status"];
  if (!status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const json& c : status["conditions"]) {
    if (c.is_object() && Str(c, "type") == type) return &c;
  }
  return nullptr;
}

// A condition counts only for the generation it was written for.
bool IsTrueAndCurrent(const json* c, std::int64_t generation) {
  if (!c || Str(*c, "status") != "True") return false;
  auto og = Int(*c, "observedGeneration");
  return !og || *og == generation;
}

std::string Describe(const json* c) {
  if (!c) return "";
  std::string s = Str(*c, "type") + "=" + Str(*c, "status");
  std::string reason = Str(*c, "reason");
  std::string message = Str(*c, "message");
  if (!reason.empty() || !message.empty()) {
    s += " (" + reason;
    if (!message.empty()) s += (reason.empty() ? "" : ": ") + message;
    s += ")";
  }
  return s;
}

}  // namespace

std::string ConditionSummary(const json& object) {
  std::string out;
  for (const char* type : {"Ready", "Reconciling", "Stalled"}) {
    std::string d = Describe(Condition(object, type));
    if (d.empty()) continue;
    if (!out.empty()) out += ", ";
    out += d;
  }
  return out.empty() ? "no conditions yet" : out;
}

WaitDecision Decide(const json* object, const WaitCriteria& criteria) {
  using State = WaitDecision::State;
  if (!object || !object->is_object()) return {State::kAbsent, "not found (yet)"};
  const json& o = *object;
  if (o.contains("metadata") && o["metadata"].contains("deletionTimestamp")) {
    return {State::kWaiting, "being deleted"};
  }
  std::int64_t generation = Int(o, "metadata", "generation").value_or(0);
  auto observed = Int(o, "status", "observedGeneration");
  if (!observed) {
    return {State::kWaiting, "waiting for the controller to report a status"};
  }
  if (*observed != generation) {
    return {State::kWaiting, "waiting for the controller to observe generation " +
                                 std::to_string(generation) + " (observed " +
                                 std::to_string(*observed) + "); " + ConditionSummary(o)};
  }
  auto applied = Int(o, "status", "appliedVersion");
  std::string applied_text = applied ? std::to_string(*applied) : "none";
  if (IsTrueAndCurrent(Condition(o, "Ready"), generation)) {
    if (!criteria.min_version) return {State::kReady, "ready: applied version " + applied_text};
    if (applied && *applied >= *criteria.min_version) {
      return {State::kReady, "ready: applied version " + applied_text +
                                 " >= " + std::to_string(*criteria.min_version)};
    }
    return {State::kWaiting, "Ready=True but applied version " + applied_text + " < required " +
                                 std::to_string(*criteria.min_version)};
  }
  if (IsTrueAndCurrent(Condition(o, "Stalled"), generation)) {
    return {State::kStalled, ConditionSummary(o) + "; applied version " + applied_text};
  }
  return {State::kWaiting, ConditionSummary(o) + "; applied version " + applied_text};
}

}  // namespace sg::observe
