#include "kube/config/exec_credential.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kube/config/temp_dir_for_test.h"

namespace sg::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A plugin that records its environment and stdin, counts its runs, and
// prints an ExecCredential expiring at $EXPIRY (or none).
constexpr char kPlugin[] = R"(#!/bin/sh
dir=$(dirname "$0")
echo "$KUBERNETES_EXEC_INFO" > "$dir/info.json"
echo "$FOO" > "$dir/foo.txt"
cat > "$dir/stdin.txt"
n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$dir/count"
exp=""
if [ -n "$EXPIRY" ]; then exp=", \"expirationTimestamp\": \"$EXPIRY\""; fi
cat <<JSON
{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
 "status": {"token": "tok-$n"$exp}}
JSON
)";

std::string Read(const std::string& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ExecConfig Config(const TempDir& dir, const std::string& script) {
  ExecConfig c;
  c.api_version = "client.authentication.k8s.io/v1";
  c.command = dir.Write("plugin.sh", script, 0755);
  c.origin = "kubeconfig /k: users[0].user.exec";
  return c;
}

TEST(ExecCredentialsTest, RunsPluginWithContractAndCachesUntilExpiry) {
  TempDir dir;
  ExecConfig c = Config(dir, kPlugin);
  FakeClock clock;
  // Expires 10 minutes after the fake wall clock's start.
  auto expiry = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock.WallNow() +
                                                                        std::chrono::minutes(10)));
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&expiry));
  c.env = {{"FOO", "bar"}, {"EXPIRY", buf}};
  c.provide_cluster_info = true;
  c.cluster_info = {{"server", "https://k:6443"}};
  ExecCredentials creds(c, &clock);

  auto t = creds.Token();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->value(), "tok-1");
  EXPECT_EQ(Read(dir.path() + "/foo.txt"), "bar\n");
  EXPECT_EQ(Read(dir.path() + "/stdin.txt"), "");  // stdin is /dev/null
  auto info = nlohmann::json::parse(Read(dir.path() + "/info.json"));
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://k:6443");

  clock.Advance(std::chrono::minutes(9));
  EXPECT_EQ(creds.Token()->value(), "tok-1");  // cached
  EXPECT_EQ(creds.runs(), 1);
  clock.Advance(std::chrono::minutes(2));
  EXPECT_EQ(creds.Token()->value(), "tok-2");  // expired: ran again
  EXPECT_EQ(creds.runs(), 2);
  creds.Invalidate();
  EXPECT_EQ(creds.Token()->value(), "tok-3");
}

TEST(ExecCredentialsTest, NoExpiryCachesUntilInvalidated) {
  TempDir dir;
  FakeClock clock;
  ExecCredentials creds(Config(dir, kPlugin), &clock);
  EXPECT_EQ(creds.Token()->value(), "tok-1");
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(creds.Token()->value(), "tok-1");
  EXPECT_EQ(creds.runs(), 1);
}

TEST(ExecCredentialsTest, FailuresNameCommandNotOutput) {
  TempDir dir;
  FakeClock clock;
  ExecCredentials failing(Config(dir, "#!/bin/sh\necho secret-out; exit 3\n"), &clock);
  auto t = failing.Token();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("users[0].user.exec: command "));
  EXPECT_THAT(t.status().message(), HasSubstr("exited with status 3"));

  ExecCredentials garbage(Config(dir, "#!/bin/sh\necho '{\"token-ish\": \"secret-out\"'\n"),
                          &clock);
  t = garbage.Token();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("not an ExecCredential"));
  EXPECT_THAT(t.status().message(), Not(HasSubstr("secret-out")));

  ExecCredentials wrong_version(
      Config(dir,
             "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
             "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"secret-out\"}}'\n"),
      &clock);
  t = wrong_version.Token();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("apiVersion does not match"));
  EXPECT_THAT(t.status().message(), Not(HasSubstr("secret-out")));

  ExecConfig missing;
  missing.api_version = "client.authentication.k8s.io/v1";
  missing.command = dir.path() + "/does-not-exist";
  missing.origin = "kubeconfig /k: users[0].user.exec";
  ExecCredentials absent(missing, &clock);
  t = absent.Token();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("cannot run it"));
}

TEST(ExecCredentialsTest, HungPluginIsKilledAfterTimeout) {
  TempDir dir;
  FakeClock clock;
  ExecConfig c = Config(dir, "#!/bin/sh\nexec sleep 600\n");
  c.timeout = std::chrono::milliseconds(200);
  ExecCredentials creds(c, &clock);
  auto t = creds.Token();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kTimeout);
  EXPECT_THAT(t.status().message(), HasSubstr("killed"));
}

TEST(Rfc3339Test, Parses) {
  auto t = ParseRfc3339("2024-01-02T03:04:05Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1704164645);
  auto off = ParseRfc3339("2024-01-02T05:04:05.5+02:00");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(*off - *t, std::chrono::milliseconds(500));
  EXPECT_FALSE(ParseRfc3339("2024-01-02 03:04:05").ok());
  EXPECT_FALSE(ParseRfc3339("2024-01-02T03:04:05").ok());
  EXPECT_FALSE(ParseRfc3339("yesterday").ok());
}

}  // namespace
}  // namespace sg::kube
