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

}  // namespace
}  // namespace sg::controller
