#include "kube/config/in_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "kube/config/temp_dir_for_test.h"

namespace sg::kube {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

InClusterOptions Opts(EnvLookup env, std::string dir = "/nonexistent",
                      Clock* clock = Clock::Real()) {
  InClusterOptions o;
  o.env = std::move(env);
  o.service_account_dir = std::move(dir);
  o.clock = clock;
  return o;
}

TEST(InClusterTest, BuildsConfigAndFollowsTokenRotation) {
  TempDir dir;
  dir.Write("ca.crt", "CA PEM");
  dir.Write("namespace", "schemagate-system\n");
  std::string token = dir.Write("token", "token-v1");
  FakeClock clock;
  auto rc = InClusterConfig(
      Opts(Env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}),
           dir.path(), &clock));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://10.96.0.1:443");
  EXPECT_EQ(rc->tls.ca.file, dir.path() + "/ca.crt");
  EXPECT_EQ(rc->namespace_, "schemagate-system");
  EXPECT_EQ(rc->credentials->Token()->value(), "token-v1");

  // kubelet rotates the projected token: the next request sees the new one.
  std::filesystem::rename(dir.Write("token.tmp", "token-v2-rotated"), token);
  EXPECT_EQ(rc->credentials->Token()->value(), "token-v2-rotated");
}

TEST(InClusterTest, Ipv6HostIsBracketed) {
  TempDir dir;
  dir.Write("ca.crt", "CA");
  dir.Write("token", "t");
  auto rc = InClusterConfig(
      Opts(Env({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}),
           dir.path(), Clock::Real()));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://[fd00::1]:6443");
  EXPECT_EQ(rc->namespace_, "default");
}

TEST(InClusterTest, NotInClusterAndMissingFiles) {
  auto rc = InClusterConfig(Opts(Env({})));
  EXPECT_EQ(rc.status().code(), Code::kFailedPrecondition);
  TempDir dir;
  auto env = Env({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}});
  rc = InClusterConfig(Opts(env, dir.path()));
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), ::testing::HasSubstr(dir.path() + "/ca.crt"));
  dir.Write("ca.crt", "CA");
  rc = InClusterConfig(Opts(env, dir.path()));
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), ::testing::HasSubstr(dir.path() + "/token"));
}

}  // namespace
}  // namespace sg::kube
