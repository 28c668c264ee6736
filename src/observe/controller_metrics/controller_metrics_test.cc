#include "observe/controller_metrics/controller_metrics.h"

#include <gtest/gtest.h>

namespace sg::observe {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(ControllerMetricsTest, RegistersTheDocumentedFamilies) {
  Registry r;
  int depth = 3;
  auto m = ControllerMetrics::Register(&r, [&] { return double(depth); });
  ASSERT_TRUE(m.ok()) << m.status();
  std::string out = r.Expose();
  for (const char* family :
       {"schemagate_migration_runs_total counter",
        "schemagate_migration_duration_seconds histogram", "schemagate_applied_version gauge",
        "schemagate_migration_ready gauge", "schemagate_database_lease_wait_seconds histogram",
        "schemagate_workqueue_depth gauge", "schemagate_reconcile_total counter",
        "schemagate_reconcile_errors_total counter", "schemagate_leader gauge"}) {
    EXPECT_TRUE(Has(out, std::string("# TYPE ") + family)) << family << "\n" << out;
  }
  EXPECT_TRUE(Has(out, "schemagate_workqueue_depth 3"));
  EXPECT_TRUE(Has(out, "schemagate_leader 0"));
  EXPECT_TRUE(Has(out, "schemagate_reconcile_errors_total 0"));
  EXPECT_TRUE(Has(out, "schemagate_database_lease_wait_seconds_bucket{le=\"600\"} 0"));
  // Twice on one registry: the names are taken.
  EXPECT_EQ(ControllerMetrics::Register(&r, nullptr).status().code(), Code::kAlreadyExists);
}

TEST(ControllerMetricsTest, RecordAndForget) {
  Registry r;
  auto m = *ControllerMetrics::Register(&r, nullptr);
  m.RecordRun("succeeded", 42);
  m.RecordStatus("shop", "accounts", 7, true);
  m.leader->Set(1);
  std::string out = r.Expose();
  EXPECT_TRUE(Has(out, "schemagate_migration_runs_total{result=\"succeeded\"} 1"));
  EXPECT_TRUE(
      Has(out, "schemagate_migration_duration_seconds_bucket{result=\"succeeded\",le=\"30\"} 0"));
  EXPECT_TRUE(
      Has(out, "schemagate_migration_duration_seconds_bucket{result=\"succeeded\",le=\"60\"} 1"));
  EXPECT_TRUE(Has(out, "schemagate_migration_duration_seconds_sum{result=\"succeeded\"} 42"));
  EXPECT_TRUE(Has(out, "schemagate_applied_version{namespace=\"shop\",name=\"accounts\"} 7"));
  EXPECT_TRUE(Has(out, "schemagate_migration_ready{namespace=\"shop\",name=\"accounts\"} 1"));
  EXPECT_TRUE(Has(out, "schemagate_leader 1"));
  m.Forget("shop", "accounts");
  out = r.Expose();
  EXPECT_EQ(out.find("name=\"accounts\""), std::string::npos) << out;
}

}  // namespace
}  // namespace sg::observe
