#include "controller/api/schema_migration.h"

#include <gtest/gtest.h>

#include "controller/api/identity.h"
#include "controller/api/migration_status.h"

namespace sg::controller {
namespace {

using nlohmann::json;

TEST(ParseSpecTest, SecretRefDefaultsKeyAndDerivesIdentity) {
  auto s = ParseSpec(json::parse(
      R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["b","a","a"]}})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->database.secret_ref->key, "url");
  EXPECT_EQ(s->source.config_maps, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->job.active_deadline_seconds, 600);
  EXPECT_EQ(DatabaseIdentity("shop", s->database), "shop/db/url");
}

TEST(ParseSpecTest, DiscreteFieldsIdentity) {
  auto s = ParseSpec(
      json::parse(R"({"database":{"host":"pg","dbname":"app"},"source":{"image":{"ref":"m:1"}}})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(DatabaseIdentity("x", s->database), "pg:5432/app");
  EXPECT_EQ(s->source.image->path, "/migrations");
  auto t = ParseSpec(json::parse(
      R"({"database":{"host":"pg","dbname":"app","identity":"shared"},"source":{"image":{"ref":"m"}}})"));
  EXPECT_EQ(DatabaseIdentity("x", t->database), "shared");
  EXPECT_EQ(LeaseName("shared").size(), 6u + 16u);
  EXPECT_EQ(LeaseName("shared").rfind("sg-db-", 0), 0u);
}

TEST(ParseSpecTest, ErrorsNameEveryField) {
  auto s = ParseSpec(json::parse(R"({
    "database":{"secretRef":{"name":"db"},"host":"x","port":70000},
    "source":{"configMaps":["m"],"image":{"ref":"i"}},
    "runner":{"lockTimeout":"5 seconds"},
    "job":{"backoffLimit":11},
    "allowDown":true})"));
  ASSERT_FALSE(s.ok());
  std::string m = s.status().message();
  for (const char* want :
       {"spec.database.port", "spec.database: set exactly one of secretRef or host",
        "spec.database.dbname: required with host", "spec.source: set image",
        "spec.runner.lockTimeout", "spec.job.backoffLimit", "spec.allowDown"}) {
    EXPECT_NE(m.find(want), std::string::npos) << want << " not in: " << m;
  }
}

TEST(LabelSelectorTest, Matches) {
  LabelSelector sel;
  sel.match_labels = {{"app", "shop"}};
  LabelRequirement in;
  in.key = "tier";
  in.op = "In";
  in.values = {"a", "b"};
  LabelRequirement absent;
  absent.key = "skip";
  absent.op = "DoesNotExist";
  sel.match_expressions.push_back(in);
  sel.match_expressions.push_back(absent);
  EXPECT_TRUE(sel.Matches(json{{"app", "shop"}, {"tier", "a"}}));
  EXPECT_FALSE(sel.Matches(json{{"app", "shop"}, {"tier", "c"}}));
  EXPECT_FALSE(sel.Matches(json{{"app", "shop"}, {"tier", "a"}, {"skip", "1"}}));
  EXPECT_FALSE(sel.Matches(json()));
}

TEST(MigrationStatusTest, RoundTripAndTransitionTime) {
  MigrationStatus s;
  s.Set(kReady, false, "Progressing", "m", 1, "2024-01-01T00:00:00Z");
  s.Set(kReady, false, "JobRunning", "m2", 2, "2024-01-01T00:01:00Z");
  EXPECT_EQ(s.Find(kReady)->last_transition_time, "2024-01-01T00:00:00Z");
  s.Set(kReady, true, "Succeeded", "ok", 2, "2024-01-01T00:02:00Z");
  EXPECT_EQ(s.Find(kReady)->last_transition_time, "2024-01-01T00:02:00Z");
  s.applied_version = 3;
  s.last_job = LastJob{"j", "Succeeded", 0, "a", "b", "msg"};
  EXPECT_EQ(StatusFromJson(StatusToJson(s)), s);
  auto t = ParseTime("2024-01-01T00:02:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatTime(*t), "2024-01-01T00:02:00Z");
}

// Found by fuzz_schema_migration: a metadata field of the wrong type threw
// from ParseMeta (std::terminate in a worker before the catch-all).
TEST(ParseMetaTest, WrongTypesReadAsAbsent) {
  for (const char* text :
       {R"({"metadata":{"name":5,"generation":"x","finalizers":"y","uid":[]}})",
        R"({"metadata":3})", R"([1])", R"({"metadata":{"annotations":[],"namespace":{}}})"}) {
    ObjectMeta m;
    EXPECT_NO_THROW(m = ParseMeta(Json::parse(text))) << text;
    EXPECT_EQ(m.name, "") << text;
    EXPECT_EQ(m.generation, 0) << text;
  }
  ObjectMeta ok = ParseMeta(Json::parse(R"({"metadata":{"name":"a","generation":3}})"));
  EXPECT_EQ(ok.name, "a");
  EXPECT_EQ(ok.generation, 3);
}

}  // namespace
}  // namespace sg::controller
