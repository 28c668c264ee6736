// LeaseRecord: the leader-election fields of a coordination.k8s.io/v1 Lease
// spec, and their JSON form, plus the fencing token the Lease carries in its
// annotation kFencingTokenAnnotation (metadata, not spec: the spec is
// client-go's schema; KubeLeaseLock maps it).
//
// Times are calendar (wall) times in the API's MicroTime format
// "2006-01-02T15:04:05.000000Z". They are informational for other tools:
// expiry is never judged from them (see lease_claim.h), so clock skew between
// machines does not matter.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"

namespace sg::kube {

inline constexpr const char* kFencingTokenAnnotation = "schemagate.dev/fencing-token";

struct LeaseRecord {
  std::string holder_identity;  // "" = free (released)
  int32_t lease_duration_seconds = 0;
  std::optional<Clock::WallTime> acquire_time;
  std::optional<Clock::WallTime> renew_time;
  int32_t lease_transitions = 0;
  // The holder's fencing token (see lease_claim.h for its derivation);
  // nullopt when the Lease has none (free since creation, or written by a
  // version that did not fence).
  std::optional<int64_t> fencing_token;

  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// A record as read from (or written to) the API server, with the
// resourceVersion an optimistic-concurrency Update must carry.
struct ObservedLease {
  LeaseRecord record;
  std::string resource_version;
};

// "2024-05-01T10:00:00.123456Z" (always UTC, microseconds, truncated).
std::string FormatMicroTime(Clock::WallTime t);
// Accepts RFC 3339 with 0-9 fraction digits and "Z" or a +hh:mm/-hh:mm offset.
StatusOr<Clock::WallTime> ParseMicroTime(std::string_view text);

// "1".."9223372036854775807" (decimal digits only, no sign) -> the value;
// anything else, 0 included, -> nullopt. Reads resourceVersions and tokens.
std::optional<int64_t> ParsePositiveInt64(std::string_view text);

// The Lease `spec` object (absent optional fields omitted).
nlohmann::json LeaseSpecToJson(const LeaseRecord& record);
// Reads `spec` of a Lease object; missing fields take their zero values.
StatusOr<LeaseRecord> LeaseRecordFromSpec(const nlohmann::json& spec);

}  // namespace sg::kube
