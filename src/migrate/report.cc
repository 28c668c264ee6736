#include "migrate/report.h"

#include <sstream>

namespace sg::migrate {

std::string_view DefaultReason(ExitCode code) {
  switch (code) {
    case ExitCode::kOk:
      return "Succeeded";
    case ExitCode::kInternal:
      return "InternalError";
    case ExitCode::kUsage:
      return "InvalidInput";
    case ExitCode::kMigrationFailed:
      return "MigrationFailed";
    case ExitCode::kDrift:
      return "Drift";
    case ExitCode::kLock:
      return "LockTimeout";
    case ExitCode::kNeedsRepair:
      return "NeedsRepair";
    case ExitCode::kConnect:
      return "ConnectionFailed";
    case ExitCode::kInterrupted:
      return "Interrupted";
  }
  return "InternalError";
}

Json MigrationJson(const Migration& m) {
  Json j = Json::object();
  j["version"] = m.version;
  j["name"] = m.name;
  j["checksum"] = m.checksum;
  if (m.up.no_transaction) j["no_transaction"] = true;
  return j;
}

Json RecordJson(const AppliedRecord& r) {
  Json j = Json::object();
  j["version"] = r.version;
  j["name"] = r.name;
  j["checksum"] = r.checksum;
  j["state"] = RecordStateName(r.state);
  j["applied_at"] = r.applied_at;
  j["execution_ms"] = r.execution_ms;
  j["applied_by"] = r.applied_by;
  if (r.no_transaction) j["no_transaction"] = true;
  if (r.baseline) j["baseline"] = true;
  if (r.fence_token) j["fence_token"] = r.fence_token;
  if (r.state != RecordState::kApplied) {
    j["sqlstate"] = r.sqlstate;
    j["error_message"] = r.error_message;
    j["failed_statement"] = r.failed_statement;
    j["statements_done"] = r.statements_done;
  }
  return j;
}

Json DriftJson(const Drift& d) {
  Json j = Json::object();
  j["kind"] = DriftKindName(d.kind);
  j["version"] = d.version;
  j["file"] = d.file;
  j["message"] = d.message;
  return j;
}

Json FailureJson(const SqlFailure& f) {
  Json j = Json::object();
  if (!f.sqlstate.empty()) j["sqlstate"] = f.sqlstate;
  j["message"] = f.message;
  if (!f.statement.empty()) j["statement"] = f.statement;
  if (f.line) j["line"] = f.line;
  j["statements_done"] = f.statements_done;
  return j;
}

namespace {

// Never inside a multi-byte character: back off over continuation bytes.
void CutStrings(Json& j, size_t max) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    if (s.size() <= max) return;
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    j = s.substr(0, cut) + "...";
  } else if (j.is_structured()) {
    for (auto& [k, v] : j.items()) CutStrings(v, max);
  }
}

}  // namespace

std::string DumpReport(const Json& report) {
  return report.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string CompactReport(const Json& report, size_t limit) {
  Json j = report;
  // Lists go first (counts stay), then long strings get shorter until it fits.
  for (const char* key : {"applied", "reverted", "pending", "would_apply", "baselined", "drift"}) {
    if (j.contains(key) && j[key].is_array()) {
      j[std::string(key) + "_count"] = j[key].size();
      if (DumpReport(j).size() > limit && j[key].size() > 1) {
        Json last = j[key].back();
        j[key] = Json::array({last});
      }
    }
  }
  for (size_t max : {1024u, 512u, 256u, 128u, 64u}) {
    std::string s = DumpReport(j);
    if (s.size() <= limit) return s;
    CutStrings(j, max);
  }
  std::string s = DumpReport(j);
  if (s.size() <= limit) return s;
  Json minimal = Json::object();
  for (const char* key :
       {"command", "ok", "exit_code", "current_version", "target_version", "pending_count"}) {
    if (j.contains(key)) minimal[key] = j[key];
  }
  return DumpReport(minimal);
}

std::string HumanReport(const Json& r) {
  std::ostringstream out;
  const std::string command = r.value("command", "");
  auto list = [&](const char* key, const char* title) {
    if (!r.contains(key) || !r[key].is_array() || r[key].empty()) return;
    out << title << ":\n";
    for (const auto& m : r[key]) {
      out << "  " << m.value("version", int64_t{0}) << "  " << m.value("name", "");
      if (m.contains("execution_ms")) out << "  (" << m["execution_ms"].get<int64_t>() << " ms)";
      if (m.contains("state") && m["state"] != "applied")
        out << "  [" << m["state"].get<std::string>() << "]";
      if (m.value("no_transaction", false)) out << "  [no-transaction]";
      if (m.value("baseline", false)) out << "  [baseline]";
      if (m.contains("statements") && m["statements"] == 0) out << "  [no-op: only comments]";
      out << "\n";
    }
  };
  // A status that never reached the database has no current version: say
  // nothing rather than "0", which reads as "untracked".
  if (command == "status" && r.contains("current_version")) {
    out << "current version: " << r.value("current_version", int64_t{0})
        << " (latest in source: " << r.value("latest_version", int64_t{0}) << ")\n";
    list("applied", "applied");
    list("pending", "pending");
  } else if (command == "plan") {
    list("would_apply", "would apply");
    if (r.contains("would_apply") && r["would_apply"].empty()) out << "nothing to apply\n";
  } else {
    list("applied", "applied");
    list("reverted", "reverted");
    list("baselined", "baselined");
    if (r.contains("cleared") && !r["cleared"].empty()) {
      out << "cleared failed records:";
      for (const auto& v : r["cleared"]) out << " " << v.get<int64_t>();
      out << "\n";
    }
    if (r.contains("current_version")) {
      out << "database is at version " << r["current_version"].get<int64_t>() << "\n";
    }
  }
  if (r.contains("drift") && r["drift"].is_array()) {
    for (const auto& d : r["drift"]) out << "drift: " << d.value("message", "") << "\n";
  }
  if (r.contains("error") && r["error"].contains("message")) {
    out << "error (" << r["error"].value("reason", "")
        << "): " << r["error"]["message"].get<std::string>() << "\n";
    if (r["error"].contains("statement")) {
      out << "  statement: " << r["error"]["statement"].get<std::string>().substr(0, 500) << "\n";
    }
  }
  return out.str();
}

}  // namespace sg::migrate
