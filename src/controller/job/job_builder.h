// Builds the migration Job of a SchemaMigration (docs/api.md, "The Job"):
// deterministic name, owner reference, podFailurePolicy on the runner's
// exit codes, the hardened pod, Secrets only through env secretKeyRef.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/api/schema_migration.h"

namespace sg::controller {

// The runner pod's grace period: the runner stops within 2 s of SIGTERM.
inline constexpr int kRunnerGracePeriodSeconds = 10;

struct JobPlan {
  std::string name;
  int64_t fence_token = 0;        // >= 1: Decide never plans a Job without one
  std::optional<int64_t> target;  // nullopt: the newest in the source
  bool down = false;              // migrate down --to *target
  std::vector<std::string> config_maps;
  std::string default_image;  // used when spec.job.image is empty
};

// "<name cut to 40>-<10 hex of SHA-256(uid, generation, checksum, target, attempt)>".
std::string JobName(const ObjectMeta& meta, const std::string& checksum,
                    std::optional<int64_t> target, int32_t attempt);

// The runner's argv after the binary ("migrate", "up", ...).
std::vector<std::string> RunnerArgs(const SchemaMigrationSpec& spec, const JobPlan& plan);

nlohmann::json BuildJob(const ObjectMeta& meta, const SchemaMigrationSpec& spec,
                        const JobPlan& plan);

// Quotes a libpq keyword-string value: 'it''s' style with backslash escapes.
std::string QuoteConninfoValue(const std::string& value);

}  // namespace sg::controller
