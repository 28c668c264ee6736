// The status of a SchemaMigration as a value, with conversion from and to
// the JSON the API server stores, and metav1.Condition bookkeeping
// (lastTransitionTime changes only when a condition's status changes).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace sg::controller {

inline constexpr const char* kReady = "Ready";
inline constexpr const char* kReconciling = "Reconciling";
inline constexpr const char* kStalled = "Stalled";

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  int64_t observed_generation = 0;
  std::string last_transition_time;
  std::string reason;
  std::string message;
  friend bool operator==(const Condition&, const Condition&) = default;
};

struct LastJob {
  std::string name;
  std::string result;  // Running, Succeeded, Failed
  std::optional<int32_t> exit_code;
  std::string start_time;
  std::string completion_time;
  std::string message;
  friend bool operator==(const LastJob&, const LastJob&) = default;
};

struct DatabaseStatus {
  std::string identity;
  std::string lease_name;
  std::string lease_holder;
  friend bool operator==(const DatabaseStatus&, const DatabaseStatus&) = default;
};

struct MigrationStatus {
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  std::optional<int64_t> applied_version;
  std::optional<int64_t> target_version;
  std::optional<int32_t> pending_count;
  std::string source_checksum;
  std::string retry_handled;
  int32_t attempt = 0;
  int32_t failures = 0;
  std::string next_retry_time;
  DatabaseStatus database;
  std::optional<LastJob> last_job;
  friend bool operator==(const MigrationStatus&, const MigrationStatus&) = default;

  const Condition* Find(const std::string& type) const;
  bool Is(const std::string& type) const;  // condition present with status True
  // Sets a condition for `generation`; keeps lastTransitionTime when the
  // status is unchanged, else sets it to `now`.
  void Set(const std::string& type, bool status, const std::string& reason,
           const std::string& message, int64_t generation, const std::string& now);
};

// Tolerant: missing or mistyped fields take their zero values.
MigrationStatus StatusFromJson(const nlohmann::json& status);
nlohmann::json StatusToJson(const MigrationStatus& status);

// RFC 3339 in UTC with seconds precision (metav1.Time): "2024-05-01T10:00:00Z".
std::string FormatTime(Clock::WallTime t);
// Accepts what FormatTime and the API server write; nullopt when malformed.
std::optional<Clock::WallTime> ParseTime(const std::string& text);

}  // namespace sg::controller
