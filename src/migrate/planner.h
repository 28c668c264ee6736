// Planner: the pure decisions of the runner. Given what the source holds and
// what the tracking table records, it finds drift and computes what `up` and
// `down` would run. No I/O, so every rule is unit-tested without a database.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "migrate/record.h"
#include "migrate/source.h"

namespace sg::migrate {

enum class DriftKind { kChecksumMismatch, kMissingFile, kOutOfOrder };
std::string_view DriftKindName(DriftKind k);

struct Drift {
  DriftKind kind;
  int64_t version = 0;
  std::string file;     // the file concerned (or the expected name when missing)
  std::string message;  // names the file and what to do
};

// Every drift between `source` and `records`, ascending by version. Pending
// versions below the newest applied one are drift unless `allow_out_of_order`.
std::vector<Drift> DetectDrift(const Source& source, const std::vector<AppliedRecord>& records,
                               bool allow_out_of_order);

// Records that block further work (failed or interrupted non-transactional runs).
std::vector<const AppliedRecord*> Unfinished(const std::vector<AppliedRecord>& records);

// The newest applied version, 0 when none.
int64_t CurrentVersion(const std::vector<AppliedRecord>& records);

// Migrations in `source` with no record, ascending.
std::vector<const SourceMigration*> Pending(const Source& source,
                                            const std::vector<AppliedRecord>& records);

// What `up [--target V]` applies: pending migrations up to the target
// (default: the newest in the source). kInvalid when the target names no file
// or lies below the current version (that is `down`'s job).
StatusOr<std::vector<const SourceMigration*>> PlanUp(const Source& source,
                                                     const std::vector<AppliedRecord>& records,
                                                     std::optional<int64_t> target);

struct DownStep {
  const AppliedRecord* record;
  const SourceMigration* migration;
};

// What `down --to V` (V stays the newest applied), `down --steps N` or
// `down --all` (every applied version, version 0 too) reverts, newest first.
// kInvalid unless exactly one is given, when a reverted version has no down
// file (or an empty one), or when V is not applied and not 0.
StatusOr<std::vector<DownStep>> PlanDown(const Source& source,
                                         const std::vector<AppliedRecord>& records,
                                         std::optional<int64_t> to, std::optional<int> steps,
                                         bool all = false);

}  // namespace sg::migrate
