#include "kube/config/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "kube/config/temp_dir_for_test.h"

namespace sg::kube {
namespace {

using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadOptions Opts(EnvLookup env, Clock* clock, std::string kubeconfig = "", std::string context = "",
                 std::string sa_dir = "/nonexistent") {
  LoadOptions o;
  o.env = std::move(env);
  o.clock = clock;
  o.kubeconfig = std::move(kubeconfig);
  o.context = std::move(context);
  o.service_account_dir = std::move(sa_dir);
  return o;
}

std::string Config(const std::string& server, const std::string& current) {
  return "current-context: " + current + "\nclusters: [{name: c, cluster: {server: \"" + server +
         "\"}}]\ncontexts: [{name: a, context: {cluster: c}}, {name: b, context: "
         "{cluster: c, namespace: nsb}}]\n";
}

TEST(LoaderTest, ExplicitPathWinsAndMustExist) {
  TempDir dir;
  std::string one = dir.Write("one", Config("https://one", "a"));
  std::string two = dir.Write("two", Config("https://two", "a"));
  FakeClock clock;
  auto rc = LoadRestConfig(Opts(Env({{"KUBECONFIG", two}}), &clock, one));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://one");
  rc = LoadRestConfig(Opts(Env({}), &clock, dir.path() + "/nope"));
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), HasSubstr(dir.path() + "/nope"));
}

TEST(LoaderTest, KubeconfigListMergedSkippingMissingAndContextOverride) {
  TempDir dir;
  std::string one = dir.Write("one", Config("https://one", ""));
  std::string two = dir.Write("two", Config("https://two", "a"));
  FakeClock clock;
  std::string list = dir.path() + "/missing:" + one + ":" + two;
  auto rc = LoadRestConfig(Opts(Env({{"KUBECONFIG", list}}), &clock));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://one");  // cluster "c" from the first file
  EXPECT_EQ(rc->context, "a");           // current-context from the second
  rc = LoadRestConfig(Opts(Env({{"KUBECONFIG", list}}), &clock, "", "b"));
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc->namespace_, "nsb");
}

TEST(LoaderTest, InClusterThenHome) {
  TempDir dir;
  dir.Write("sa/ca.crt", "CA");
  dir.Write("sa/token", "t");
  dir.Write("home/.kube/config", Config("https://home", "a"));
  FakeClock clock;
  auto rc = LoadRestConfig(Opts(Env({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                     {"KUBERNETES_SERVICE_PORT", "443"},
                                     {"HOME", dir.path() + "/home"}}),
                                &clock, "", "", dir.path() + "/sa"));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->source, "in-cluster");
  rc = LoadRestConfig(Opts(Env({{"HOME", dir.path() + "/home"}}), &clock));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://home");
  rc = LoadRestConfig(Opts(Env({}), &clock));
  EXPECT_EQ(rc.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace sg::kube
