#include "controller/source/source_info.h"

#include <gtest/gtest.h>

namespace sg::controller {
namespace {

using nlohmann::json;

json Cm(const std::string& name, json data, json labels = json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}}, {"data", data}};
}

TEST(SourceInfoTest, ChecksumVersionsAndDuplicates) {
  auto a = SourceFromConfigMaps({Cm("a", {{"0002_b.up.sql", "x"}, {"0002_b.down.sql", "y"}}),
                                 Cm("b", {{"0010_c.up.sql", "z"}, {"README", "r"}})});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->versions, (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(a->Newest(), 10);
  EXPECT_EQ(a->CountBetween(2, 10), 1);
  EXPECT_EQ(a->CountBetween(std::nullopt, 10), 2);
  // The same files split differently over ConfigMaps: same checksum.
  auto b = SourceFromConfigMaps({Cm("x", {{"0002_b.up.sql", "x"},
                                          {"0002_b.down.sql", "y"},
                                          {"0010_c.up.sql", "z"},
                                          {"README", "r"}})});
  EXPECT_EQ(a->checksum, b->checksum);
  auto c = SourceFromConfigMaps({Cm("x", {{"0002_b.up.sql", "x2"},
                                          {"0002_b.down.sql", "y"},
                                          {"0010_c.up.sql", "z"},
                                          {"README", "r"}})});
  EXPECT_NE(a->checksum, c->checksum);
  auto dup =
      SourceFromConfigMaps({Cm("a", {{"0001_a.up.sql", "x"}}), Cm("b", {{"0001_a.up.sql", "y"}})});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("0001_a.up.sql"), std::string::npos);
  EXPECT_EQ(SourceFromConfigMaps({Cm("a", json::object())}).status().code(), Code::kNotFound);
}

TEST(SourceInfoTest, SelectByNameAndSelector) {
  std::vector<json> cms = {Cm("one", {}, {{"set", "s"}}), Cm("two", {}, {{"set", "s"}}),
                           Cm("other", {})};
  SourceSpec spec;
  spec.config_maps = {"other"};
  spec.selector = LabelSelector{{{"set", "s"}}, {}};
  auto got = SelectConfigMaps(spec, cms);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  spec.config_maps = {"missing"};
  auto missing = SelectConfigMaps(spec, cms);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("\"missing\""), std::string::npos);
}

// Mistakes the operator can see in the ConfigMaps it reads stall before any
// Job exists (they used to be found only by the runner inside a Job), with
// the ConfigMap and file named; the runner's own rules (files not ending in
// .sql are ignored there too).
TEST(SourceInfoTest, MistakesInTheFilesAreFoundBeforeAnyJob) {
  struct Case {
    json data;
    std::string want;  // in the message
  };
  const std::vector<Case> cases = {
      {{{"0001_a.up.sql", "x"}, {"1_b.sql", "y"}}, "1_b.sql: malformed name"},
      {{{"0001_a.up.sql", "x"}, {"v2_b.up.sql", "y"}}, "v2_b.up.sql: malformed name"},
      {{{"0001_a.up.sql", "x"}, {"1_b.up.sql", "y"}}, "duplicate version 1"},
      {{{"0001_a.up.sql", "x"}, {"0002_b.down.sql", "y"}},
       "0002_b.down.sql: down migration without"},
      {{{"0001_a.up.sql", " \n\t "}}, "0001_a.up.sql: empty"},
  };
  for (const auto& c : cases) {
    auto s = SourceFromConfigMaps({Cm("migrations", c.data)});
    ASSERT_FALSE(s.ok()) << c.data.dump();
    EXPECT_EQ(s.status().code(), Code::kInvalid);
    EXPECT_NE(s.status().message().find(c.want), std::string::npos) << s.status();
    EXPECT_NE(s.status().message().find("ConfigMap \"migrations\""), std::string::npos)
        << s.status();
  }
  EXPECT_TRUE(SourceFromConfigMaps({Cm("m", {{"0001_a.up.sql", "x"}, {"notes.txt", ""}})}).ok());
}

// The cache keeps a summary: no content, annotations or managedFields, yet
// the same checksum, versions and source errors as the whole object gives.
TEST(SourceInfoTest, SummaryKeepsNoContentAndDecidesTheSame) {
  const std::string big(512 * 1024, 'x');
  json whole = Cm("m", {{"0001_a.up.sql", "CREATE TABLE a (id int);"},
                        {"0002_b.up.sql", big},
                        {"0003_c.up.sql", " \n\t"},
                        {"notes.txt", big}},
                  {{"team", "shop"}});
  whole["metadata"]["namespace"] = "shop";
  whole["metadata"]["resourceVersion"] = "42";
  whole["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", big}};
  whole["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  whole["binaryData"] = {{"blob", big}};
  json summary = whole;
  SummarizeConfigMap(summary);
  EXPECT_LT(summary.dump().size(), 1024u) << summary.dump();
  EXPECT_FALSE(summary.contains("data"));
  EXPECT_FALSE(summary.contains("binaryData"));
  EXPECT_FALSE(summary["metadata"].contains("annotations"));
  EXPECT_FALSE(summary["metadata"].contains("managedFields"));
  EXPECT_EQ(summary["metadata"]["name"], "m");
  EXPECT_EQ(summary["metadata"]["namespace"], "shop");
  EXPECT_EQ(summary["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(summary["metadata"]["labels"]["team"], "shop");
  EXPECT_EQ(summary["files"]["0002_b.up.sql"]["size"], big.size());

  // Blank 0003 is an error either way, with the same message.
  auto from_whole = SourceFromConfigMaps({whole});
  auto from_summary = SourceFromConfigMaps({summary});
  ASSERT_FALSE(from_whole.ok());
  EXPECT_EQ(from_whole.status().message(), from_summary.status().message());
  EXPECT_NE(from_summary.status().message().find("0003_c.up.sql: empty"), std::string::npos);

  whole["data"]["0003_c.up.sql"] = "SELECT 1;";
  summary = whole;
  SummarizeConfigMap(summary);
  from_whole = SourceFromConfigMaps({whole});
  from_summary = SourceFromConfigMaps({summary});
  ASSERT_TRUE(from_summary.ok()) << from_summary.status();
  EXPECT_EQ(from_whole->checksum, from_summary->checksum);
  EXPECT_EQ(from_summary->versions, (std::vector<int64_t>{1, 2, 3}));
  // An edit of one byte changes the checksum.
  json edited = whole;
  edited["data"]["0002_b.up.sql"] = big.substr(1) + "y";
  SummarizeConfigMap(edited);
  EXPECT_NE(SourceFromConfigMaps({edited})->checksum, from_summary->checksum);
}

TEST(SourceInfoTest, SummaryOfHostileObjectsNeverThrows) {
  for (json odd : {json(), json(3), json::array({1}), json{{"metadata", 3}},
                   json{{"metadata", {{"name", 7}}}, {"data", {{"a.up.sql", 1}}}},
                   json{{"data", "x"}}}) {
    json s = odd;
    EXPECT_NO_THROW(SummarizeConfigMap(s)) << odd.dump();
    EXPECT_NO_THROW(SourceFromConfigMaps({s}).status().IgnoreError()) << odd.dump();
  }
}

}  // namespace
}  // namespace sg::controller
