#include "observe/controller_metrics/controller_metrics.h"

namespace sg::observe {

std::vector<double> MigrationDurationBuckets() {
  return {1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
}

std::vector<double> LeaseWaitBuckets() {
  return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

StatusOr<ControllerMetrics> ControllerMetrics::Register(Registry* r,
                                                        std::function<double()> queue_depth) {
  ControllerMetrics m;
  SG_ASSIGN_OR_RETURN(m.migration_runs,
                      r->AddCounter("schemagate_migration_runs_total",
                                    "Migration Jobs finished, by result (succeeded, failed, "
                                    "stalled).",
                                    {"result"}));
  SG_ASSIGN_OR_RETURN(m.migration_duration,
                      r->AddHistogram("schemagate_migration_duration_seconds",
                                      "Duration of migration Jobs from start to finish, by result.",
                                      MigrationDurationBuckets(), {"result"}));
  SG_ASSIGN_OR_RETURN(
      m.applied_version,
      r->AddGauge("schemagate_applied_version", "status.appliedVersion of each SchemaMigration.",
                  {"namespace", "name"}));
  SG_ASSIGN_OR_RETURN(
      m.migration_ready,
      r->AddGauge("schemagate_migration_ready", "1 while a SchemaMigration is Ready=True, else 0.",
                  {"namespace", "name"}));
  SG_ASSIGN_OR_RETURN(
      m.lease_wait,
      r->AddHistogram("schemagate_database_lease_wait_seconds",
                      "Time from wanting a per-database Lease to holding it.", LeaseWaitBuckets()));
  if (!queue_depth) queue_depth = [] { return 0.0; };
  SG_ASSIGN_OR_RETURN(
      m.workqueue_depth,
      r->AddGaugeFunc("schemagate_workqueue_depth",
                      "Keys ready for a worker in the reconcile queue.", std::move(queue_depth)));
  SG_ASSIGN_OR_RETURN(
      m.reconciles, r->AddCounter("schemagate_reconcile_total",
                                  "Reconciles, by result (success, error, requeue).", {"result"}));
  SG_ASSIGN_OR_RETURN(m.reconcile_errors,
                      r->AddCounter("schemagate_reconcile_errors_total",
                                    "Reconciles that returned an error (retried with backoff)."));
  SG_ASSIGN_OR_RETURN(
      m.leader,
      r->AddGauge("schemagate_leader", "1 while this replica holds the controller leader Lease."));
  return m;
}

void ControllerMetrics::RecordRun(const std::string& result, double seconds) const {
  migration_runs->Inc({result});
  migration_duration->Observe({result}, seconds);
}

void ControllerMetrics::RecordStatus(const std::string& ns, const std::string& name,
                                     std::int64_t applied, bool ready) const {
  applied_version->Set({ns, name}, static_cast<double>(applied));
  migration_ready->Set({ns, name}, ready ? 1 : 0);
}

void ControllerMetrics::Forget(const std::string& ns, const std::string& name) const {
  applied_version->Remove({ns, name});
  migration_ready->Remove({ns, name});
}

}  // namespace sg::observe
