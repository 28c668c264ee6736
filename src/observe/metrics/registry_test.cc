#include "observe/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace sg::observe {
namespace {

TEST(ExpositionTest, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(-1.5), "-1.5");
  EXPECT_EQ(FormatValue(1e-05), "1e-05");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(RegistryTest, CounterExposition) {
  Registry r;
  auto runs = r.AddCounter("schemagate_migration_runs_total", "Migration Jobs finished, by result.",
                           {"result"});
  ASSERT_TRUE(runs.ok()) << runs.status();
  (*runs)->Inc({"succeeded"});
  (*runs)->Inc({"succeeded"}, 2);
  (*runs)->Inc({"failed"});
  auto errors = r.AddCounter("schemagate_reconcile_errors_total", "Reconcile errors.");
  ASSERT_TRUE(errors.ok());
  EXPECT_EQ(r.Expose(),
            "# HELP schemagate_migration_runs_total Migration Jobs finished, by result.\n"
            "# TYPE schemagate_migration_runs_total counter\n"
            "schemagate_migration_runs_total{result=\"failed\"} 1\n"
            "schemagate_migration_runs_total{result=\"succeeded\"} 3\n"
            "# HELP schemagate_reconcile_errors_total Reconcile errors.\n"
            "# TYPE schemagate_reconcile_errors_total counter\n"
            "schemagate_reconcile_errors_total 0\n");
  EXPECT_EQ((*runs)->Value({"succeeded"}), 3);
  EXPECT_EQ((*runs)->Value({"never"}), 0);
}

TEST(RegistryTest, CounterNeverDecreasesAndArityIsChecked) {
  Registry r;
  Counter* c = *r.AddCounter("c_total", "h", {"a", "b"});
  c->Inc({"x", "y"}, -1);
  c->Inc({"x"});
  c->Inc({"x", "y", "z"});
  c->Inc({"x", "y"}, std::nan(""));
  EXPECT_EQ(c->dropped(), 4u);
  EXPECT_EQ(r.Expose(), "# HELP c_total h\n# TYPE c_total counter\n");
}

TEST(RegistryTest, GaugeLabelsEscapingAndRemove) {
  Registry r;
  Gauge* g = *r.AddGauge("schemagate_applied_version", "Applied version per SchemaMigration.",
                         {"namespace", "name"});
  g->Set({"default", "app"}, 20240101);
  g->Set({"odd", "q\"uote\\back\nslash"}, 3);
  g->Add({"default", "app"}, 1);
  EXPECT_EQ(r.Expose(),
            "# HELP schemagate_applied_version Applied version per SchemaMigration.\n"
            "# TYPE schemagate_applied_version gauge\n"
            "schemagate_applied_version{namespace=\"default\",name=\"app\"} 20240102\n"
            "schemagate_applied_version{namespace=\"odd\",name=\"q\\\"uote\\\\back\\nslash\"} 3\n");
  g->Remove({"default", "app"});
  EXPECT_EQ(g->Value({"default", "app"}), 0);
  EXPECT_EQ(r.Expose().find("name=\"app\""), std::string::npos);
  g->Clear();
  EXPECT_EQ(r.Expose(),
            "# HELP schemagate_applied_version Applied version per SchemaMigration.\n"
            "# TYPE schemagate_applied_version gauge\n");
}

TEST(RegistryTest, UnlabelledGaugeAndGaugeFunc) {
  Registry r;
  Gauge* leader = *r.AddGauge("schemagate_leader", "1 while leading.");
  leader->Set(1);
  int depth = 5;
  ASSERT_TRUE(r.AddGaugeFunc("schemagate_workqueue_depth", "Keys waiting.\nMultiline \\ help", [&] {
                 return static_cast<double>(depth);
               }).ok());
  depth = 7;
  EXPECT_EQ(r.Expose(),
            "# HELP schemagate_leader 1 while leading.\n"
            "# TYPE schemagate_leader gauge\n"
            "schemagate_leader 1\n"
            "# HELP schemagate_workqueue_depth Keys waiting.\\nMultiline \\\\ help\n"
            "# TYPE schemagate_workqueue_depth gauge\n"
            "schemagate_workqueue_depth 7\n");
}

TEST(RegistryTest, HistogramExposition) {
  Registry r;
  Histogram* h = *r.AddHistogram("schemagate_migration_duration_seconds", "Migration Job duration.",
                                 {0.5, 1, 2.5}, {"result"});
  h->Observe({"succeeded"}, 0.2);
  h->Observe({"succeeded"}, 0.5);  // le is inclusive
  h->Observe({"succeeded"}, 2);
  h->Observe({"succeeded"}, 100);
  EXPECT_EQ(r.Expose(),
            "# HELP schemagate_migration_duration_seconds Migration Job duration.\n"
            "# TYPE schemagate_migration_duration_seconds histogram\n"
            "schemagate_migration_duration_seconds_bucket{result=\"succeeded\",le=\"0.5\"} 2\n"
            "schemagate_migration_duration_seconds_bucket{result=\"succeeded\",le=\"1\"} 2\n"
            "schemagate_migration_duration_seconds_bucket{result=\"succeeded\",le=\"2.5\"} 3\n"
            "schemagate_migration_duration_seconds_bucket{result=\"succeeded\",le=\"+Inf\"} 4\n"
            "schemagate_migration_duration_seconds_sum{result=\"succeeded\"} 102.7\n"
            "schemagate_migration_duration_seconds_count{result=\"succeeded\"} 4\n");
  auto snap = h->Get({"succeeded"});
  EXPECT_EQ(snap.buckets, (std::vector<uint64_t>{2, 2, 3, 4}));
  EXPECT_EQ(snap.count, 4u);
}

TEST(RegistryTest, UnlabelledHistogramStartsAtZero) {
  Registry r;
  ASSERT_TRUE(r.AddHistogram("w_seconds", "h", {1, std::numeric_limits<double>::infinity()}).ok());
  EXPECT_EQ(r.Expose(),
            "# HELP w_seconds h\n# TYPE w_seconds histogram\n"
            "w_seconds_bucket{le=\"1\"} 0\n"
            "w_seconds_bucket{le=\"+Inf\"} 0\n"
            "w_seconds_sum 0\n"
            "w_seconds_count 0\n");
}

TEST(RegistryTest, RegistrationErrors) {
  Registry r;
  EXPECT_EQ(r.AddCounter("1bad", "h").status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddCounter("bad-name", "h").status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddCounter("ok", "h", {"__reserved"}).status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddCounter("ok", "h", {"a:b"}).status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddCounter("ok", "h", {"a", "a"}).status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddHistogram("h", "h", {1}, {"le"}).status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddHistogram("h", "h", {2, 1}).status().code(), Code::kInvalid);
  EXPECT_EQ(r.AddHistogram("h", "h", {}).status().code(), Code::kInvalid);
  ASSERT_TRUE(r.AddCounter("ok:total", "h").ok());
  EXPECT_EQ(r.AddGauge("ok:total", "h").status().code(), Code::kAlreadyExists);
}

TEST(RegistryTest, Buckets) {
  EXPECT_EQ(DefaultBuckets().size(), 11u);
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

TEST(RegistryTest, ConcurrentUpdatesAndScrapes) {
  Registry r;
  Counter* c = *r.AddCounter("c_total", "h", {"t"});
  Histogram* h = *r.AddHistogram("h_seconds", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        c->Inc({std::to_string(t % 2)});
        h->Observe(0.5);
        if (i % 100 == 0) (void)r.Expose();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c->Value({"0"}) + c->Value({"1"}), 4000);
  EXPECT_EQ(h->Get().count, 4000u);
  EXPECT_NE(r.Expose().find("h_seconds_bucket{le=\"+Inf\"} 4000\n"), std::string::npos);
}

}  // namespace
}  // namespace sg::observe
