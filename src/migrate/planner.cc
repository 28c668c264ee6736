#include "migrate/planner.h"

#include <algorithm>
#include <set>

namespace sg::migrate {

std::string_view DriftKindName(DriftKind k) {
  switch (k) {
    case DriftKind::kChecksumMismatch:
      return "ChecksumMismatch";
    case DriftKind::kMissingFile:
      return "MissingFile";
    case DriftKind::kOutOfOrder:
      return "OutOfOrder";
  }
  return "Unknown";
}

int64_t CurrentVersion(const std::vector<AppliedRecord>& records) {
  int64_t v = 0;
  for (const auto& r : records) {
    if (r.state == RecordState::kApplied) v = std::max(v, r.version);
  }
  return v;
}

std::vector<const AppliedRecord*> Unfinished(const std::vector<AppliedRecord>& records) {
  std::vector<const AppliedRecord*> out;
  for (const auto& r : records) {
    if (r.state != RecordState::kApplied) out.push_back(&r);
  }
  return out;
}

std::vector<const SourceMigration*> Pending(const Source& source,
                                            const std::vector<AppliedRecord>& records) {
  std::set<int64_t> recorded;
  for (const auto& r : records) recorded.insert(r.version);
  std::vector<const SourceMigration*> out;
  for (const auto& m : source.migrations) {
    if (!recorded.count(m.migration.version)) out.push_back(&m);
  }
  return out;
}

std::vector<Drift> DetectDrift(const Source& source, const std::vector<AppliedRecord>& records,
                               bool allow_out_of_order) {
  std::vector<Drift> out;
  for (const auto& r : records) {
    if (r.state != RecordState::kApplied) continue;  // reported as "needs repair" instead
    const SourceMigration* m = source.Find(r.version);
    std::string expected = std::to_string(r.version) + "_" + r.name + ".up.sql";
    if (m == nullptr) {
      out.push_back({DriftKind::kMissingFile, r.version, expected,
                     "version " + std::to_string(r.version) + " (" + r.name + ") is applied but " +
                         expected + " is missing from the source"});
    } else if (m->migration.checksum != r.checksum) {
      std::string file = m->migration.up.FileName();
      out.push_back({DriftKind::kChecksumMismatch, r.version, file,
                     file + " was changed after it was applied (checksum " +
                         r.checksum.substr(0, 12) + "... recorded, " +
                         m->migration.checksum.substr(0, 12) +
                         "... now); restore the file and add a new migration instead"});
    }
  }
  if (!allow_out_of_order) {
    int64_t current = CurrentVersion(records);
    for (const SourceMigration* m : Pending(source, records)) {
      if (m->migration.version >= current) break;
      std::string file = m->migration.up.FileName();
      out.push_back({DriftKind::kOutOfOrder, m->migration.version, file,
                     file + " is pending but older than the applied version " +
                         std::to_string(current) +
                         "; renumber it, or pass --allow-out-of-order to apply it"});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Drift& a, const Drift& b) { return a.version < b.version; });
  return out;
}

StatusOr<std::vector<const SourceMigration*>> PlanUp(const Source& source,
                                                     const std::vector<AppliedRecord>& records,
                                                     std::optional<int64_t> target) {
  int64_t limit = source.Latest();
  if (target) {
    if (*target != 0 && source.Find(*target) == nullptr) {
      return InvalidError("target version " + std::to_string(*target) +
                          " has no migration file in " + source.dir);
    }
    int64_t current = CurrentVersion(records);
    if (*target < current) {
      return InvalidError("target version " + std::to_string(*target) +
                          " is below the applied version " + std::to_string(current) +
                          "; use `down --to " + std::to_string(*target) + "` to go back");
    }
    limit = *target;
  }
  std::vector<const SourceMigration*> out;
  for (const SourceMigration* m : Pending(source, records)) {
    if (m->migration.version <= limit) out.push_back(m);
  }
  return out;
}

StatusOr<std::vector<DownStep>> PlanDown(const Source& source,
                                         const std::vector<AppliedRecord>& records,
                                         std::optional<int64_t> to, std::optional<int> steps,
                                         bool all) {
  if (int(to.has_value()) + int(steps.has_value()) + int(all) != 1) {
    return InvalidError("down needs exactly one of --to VERSION, --steps N or --all");
  }
  if (steps && *steps < 1) return InvalidError("--steps must be at least 1");
  std::vector<const AppliedRecord*> applied;
  for (const auto& r : records) {
    if (r.state == RecordState::kApplied) applied.push_back(&r);
  }
  std::sort(applied.begin(), applied.end(),
            [](const AppliedRecord* a, const AppliedRecord* b) { return a->version > b->version; });
  if (to && *to != 0 && std::none_of(applied.begin(), applied.end(), [&](const AppliedRecord* r) {
        return r->version == *to;
      })) {
    return InvalidError("--to " + std::to_string(*to) +
                        ": that version is not applied (--to 0 reverts all versions above 0, "
                        "--all every applied version)");
  }
  std::vector<DownStep> out;
  for (const AppliedRecord* r : applied) {
    if (to && r->version <= *to) break;
    if (steps && static_cast<int>(out.size()) == *steps) break;
    const SourceMigration* m = source.Find(r->version);
    if (m == nullptr || !m->migration.down) {
      std::string up = m ? m->migration.up.FileName() : std::to_string(r->version) + "_" + r->name;
      if (up.ends_with(".up.sql")) up.resize(up.size() - 7);
      return InvalidError("cannot revert version " + std::to_string(r->version) + ": " + up +
                          ".down.sql is missing from " + source.dir);
    }
    if (m->down_statements.empty()) {
      return InvalidError("cannot revert version " + std::to_string(r->version) + ": " +
                          m->migration.down->FileName() + " has no SQL statements");
    }
    out.push_back({r, m});
  }
  return out;
}

}  // namespace sg::migrate
