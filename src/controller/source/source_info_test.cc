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

}  // namespace
}  // namespace sg::controller
