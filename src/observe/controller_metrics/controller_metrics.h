// ControllerMetrics: the controller's Prometheus metrics, registered in one
// place so names, help texts, labels and buckets match docs/observability.md:
//
//   schemagate_migration_runs_total{result}          counter
//   schemagate_migration_duration_seconds{result}    histogram (1 s .. 1 h)
//   schemagate_applied_version{namespace,name}       gauge
//   schemagate_migration_ready{namespace,name}       gauge (1 Ready, 0 not)
//   schemagate_database_lease_wait_seconds           histogram (0.1 s .. ~10 min)
//   schemagate_workqueue_depth                       gauge, read at scrape time
//   schemagate_reconcile_total{result}               counter
//   schemagate_reconcile_errors_total                counter
//   schemagate_leader                                gauge (1 leading, 0 not)
//
// result values: runs/duration "succeeded" | "failed" | "stalled";
// reconciles "success" | "error" | "requeue".
//
// Thread-safety: as Registry (every method may be called from any thread).
// Ownership: the pointers belong to the Registry given to Register, which
// must outlive this struct's use; `queue_depth` must stay callable as long
// as the registry is scraped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "observe/metrics/registry.h"

namespace sg::observe {

struct ControllerMetrics {
  Counter* migration_runs = nullptr;
  Histogram* migration_duration = nullptr;
  Gauge* applied_version = nullptr;
  Gauge* migration_ready = nullptr;
  Histogram* lease_wait = nullptr;
  Gauge* workqueue_depth = nullptr;
  Counter* reconciles = nullptr;
  Counter* reconcile_errors = nullptr;
  Gauge* leader = nullptr;

  // Registers every family; fails (kAlreadyExists) if called twice on one
  // registry.
  static StatusOr<ControllerMetrics> Register(Registry* registry,
                                              std::function<double()> queue_depth);

  // A finished migration Job: counts it and observes its duration.
  void RecordRun(const std::string& result, double seconds) const;
  // The per-object series from a status: applied version and readiness.
  void RecordStatus(const std::string& ns, const std::string& name, std::int64_t applied_version,
                    bool ready) const;
  // The SchemaMigration is gone: drop its per-object series.
  void Forget(const std::string& ns, const std::string& name) const;
};

// Bucket bounds used above (exposed for tests and dashboards).
std::vector<double> MigrationDurationBuckets();  // 1 2.5 5 10 30 60 120 300 600 1800 3600
std::vector<double> LeaseWaitBuckets();          // 0.1 0.25 0.5 1 2.5 5 10 30 60 120 300 600

}  // namespace sg::observe
