#include "kube/config/kubeconfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/config/base64.h"
#include "kube/config/temp_dir_for_test.h"

namespace sg::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBasic[] = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: certs/ca.crt
- name: other
  cluster:
    server: https://10.0.0.1
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    client-certificate: certs/client.crt
    client-key: /abs/client.key
- name: token-user
  user:
    token: s3cr3t-t0ken
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team}
- name: tok
  context: {cluster: other, user: token-user}
)";

TEST(KubeconfigTest, ParsesEntriesAndResolvesRelativePaths) {
  auto kc = ParseKubeconfig(kBasic, "/home/me/.kube/config");
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->current_context, "dev");
  ASSERT_EQ(kc->clusters.count("dev-cluster"), 1u);
  const auto& c = kc->clusters.at("dev-cluster");
  EXPECT_EQ(c.server, "https://127.0.0.1:6443/");
  EXPECT_EQ(c.certificate_authority.file, "/home/me/.kube/certs/ca.crt");
  EXPECT_EQ(c.certificate_authority.field,
            "kubeconfig /home/me/.kube/config: clusters[0].cluster.certificate-authority");
  EXPECT_TRUE(kc->clusters.at("other").insecure_skip_tls_verify);
  EXPECT_EQ(kc->users.at("dev-user").client_certificate.file, "/home/me/.kube/certs/client.crt");
  EXPECT_EQ(kc->users.at("dev-user").client_key.file, "/abs/client.key");
  EXPECT_EQ(kc->users.at("token-user").token, "s3cr3t-t0ken");
  EXPECT_EQ(kc->contexts.at("dev").namespace_, "team");
}

TEST(KubeconfigTest, DecodesDataFields) {
  std::string yaml = R"(
clusters:
- name: c
  cluster:
    server: https://k
    certificate-authority-data: )" +
                     Base64Encode("-----BEGIN CERTIFICATE-----\nCA\n") + R"(
users:
- name: u
  user:
    client-certificate-data: )" +
                     Base64Encode("CERT") + R"(
    client-key-data: )" +
                     Base64Encode("KEY") + R"(
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)";
  auto kc = ParseKubeconfig(yaml, "/k/config");
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->clusters.at("c").certificate_authority.data, "-----BEGIN CERTIFICATE-----\nCA\n");
  EXPECT_EQ(kc->users.at("u").client_certificate.data, "CERT");
  EXPECT_EQ(kc->users.at("u").client_key.data, "KEY");
  FakeClock clock;
  auto rc = BuildRestConfig(*kc, "", &clock);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->tls.client_key.data, "KEY");
  EXPECT_EQ(rc->credentials, nullptr);
  EXPECT_EQ(rc->namespace_, "default");
}

TEST(KubeconfigTest, BadBase64NamesFieldButNotValue) {
  auto kc = ParseKubeconfig(R"(
users:
- name: u
  user:
    client-key-data: "!!notbase64-SECRETKEY"
)",
                            "/x/config");
  ASSERT_FALSE(kc.ok());
  EXPECT_EQ(kc.status().code(), Code::kInvalid);
  EXPECT_THAT(kc.status().message(),
              HasSubstr("kubeconfig /x/config: users[0].user.client-key-data: not valid base64"));
  EXPECT_THAT(kc.status().message(), Not(HasSubstr("SECRETKEY")));
}

TEST(KubeconfigTest, MissingCertificateFileNamesFileAndField) {
  TempDir dir;
  std::string path = dir.Write("config", kBasic);
  auto kc = LoadKubeconfigFile(path);
  ASSERT_TRUE(kc.ok()) << kc.status();
  FakeClock clock;
  auto rc = BuildRestConfig(*kc, "dev", &clock);
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(
      rc.status().message(),
      HasSubstr("kubeconfig " + path + ": clusters[0].cluster.certificate-authority: cannot read " +
                dir.path() + "/certs/ca.crt"));
  dir.Write("certs/ca.crt", "CA");
  rc = BuildRestConfig(*kc, "dev", &clock);
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(),
              HasSubstr(path + ": users[0].user.client-certificate: cannot read"));
}

TEST(KubeconfigTest, TokenUserNeverLeaksTokenInErrors) {
  auto kc = ParseKubeconfig(kBasic, "/x/config");
  ASSERT_TRUE(kc.ok());
  FakeClock clock;
  auto rc = BuildRestConfig(*kc, "tok", &clock);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://10.0.0.1");
  EXPECT_TRUE(rc->tls.insecure_skip_verify);
  auto token = rc->credentials->Token();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->value(), "s3cr3t-t0ken");

  auto bad = ParseKubeconfig(R"(
users:
- name: u
  user: {token: s3cr3t-t0ken, exec: {apiVersion: client.authentication.k8s.io/v1, command: x}}
clusters: [{name: c, cluster: {server: "https://k"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)",
                             "/x/config");
  ASSERT_TRUE(bad.ok()) << bad.status();
  auto rc2 = BuildRestConfig(*bad, "x", &clock);
  ASSERT_FALSE(rc2.ok());
  EXPECT_THAT(rc2.status().message(), HasSubstr("users[0].user: both exec and token"));
  EXPECT_THAT(rc2.status().message(), Not(HasSubstr("s3cr3t")));
}

TEST(KubeconfigTest, ContextErrors) {
  auto kc = ParseKubeconfig(R"(
clusters: [{name: c, cluster: {server: "https://k"}}]
contexts: [{name: x, context: {cluster: nope, user: u}}]
)",
                            "/x/config");
  ASSERT_TRUE(kc.ok());
  FakeClock clock;
  auto rc = BuildRestConfig(*kc, "", &clock);
  EXPECT_THAT(rc.status().message(), HasSubstr("no current-context set"));
  rc = BuildRestConfig(*kc, "missing", &clock);
  EXPECT_THAT(rc.status().message(), HasSubstr("context \"missing\" not found"));
  rc = BuildRestConfig(*kc, "x", &clock);
  EXPECT_THAT(rc.status().message(),
              HasSubstr("kubeconfig /x/config: contexts[0].context.cluster: cluster \"nope\""));
}

TEST(KubeconfigTest, SyntaxErrorNamesFileAndLine) {
  auto kc = ParseKubeconfig("clusters:\n  - name: [unclosed\n", "/x/config");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(), HasSubstr("kubeconfig /x/config: line "));
}

TEST(KubeconfigTest, WrongTypesNameTheField) {
  auto kc = ParseKubeconfig("clusters:\n- name: c\n  cluster:\n    server: [a, b]\n", "/x/c");
  ASSERT_FALSE(kc.ok());
  EXPECT_THAT(kc.status().message(),
              HasSubstr("kubeconfig /x/c: clusters[0].cluster.server: must be a string"));
  kc = ParseKubeconfig("clusters:\n- cluster: {server: x}\n", "/x/c");
  EXPECT_THAT(kc.status().message(), HasSubstr("clusters[0].name: must be set"));
  kc = ParseKubeconfig("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n",
                       "/x/c");
  EXPECT_THAT(kc.status().message(), HasSubstr("insecure-skip-tls-verify: must be true or false"));
}

TEST(KubeconfigTest, MergeFirstDefinitionWins) {
  auto a = ParseKubeconfig(R"(
clusters: [{name: shared, cluster: {server: "https://from-a"}}]
users: [{name: ua, user: {token: a}}]
contexts: [{name: ctx, context: {cluster: shared, user: ua}}]
)",
                           "/a/config");
  auto b = ParseKubeconfig(R"(
current-context: ctx
clusters:
- {name: shared, cluster: {server: "https://from-b", insecure-skip-tls-verify: true}}
- {name: only-b, cluster: {server: "https://b-only"}}
users: [{name: ua, user: {token: b}}]
contexts:
- {name: ctx, context: {cluster: only-b, user: ua}}
- {name: bctx, context: {cluster: only-b, user: ua, namespace: nb}}
)",
                           "/b/config");
  auto c = ParseKubeconfig("current-context: other\n", "/c/config");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  Kubeconfig m = MergeKubeconfigs({*a, *b, *c});
  // a had no current-context: b's is the first non-empty one.
  EXPECT_EQ(m.current_context, "ctx");
  // Whole entries: a's "shared" wins, b's insecure flag is NOT merged in.
  EXPECT_EQ(m.clusters.at("shared").server, "https://from-a");
  EXPECT_FALSE(m.clusters.at("shared").insecure_skip_tls_verify);
  EXPECT_EQ(m.clusters.at("only-b").server, "https://b-only");
  EXPECT_EQ(m.contexts.at("ctx").cluster, "shared");
  EXPECT_EQ(m.users.at("ua").token, "a");
  FakeClock clock;
  auto rc = BuildRestConfig(m, "", &clock);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->server, "https://from-a");
  auto rc2 = BuildRestConfig(m, "bctx", &clock);
  ASSERT_TRUE(rc2.ok());
  EXPECT_EQ(rc2->server, "https://b-only");
  EXPECT_EQ(rc2->namespace_, "nb");
  EXPECT_EQ(m.files, (std::vector<std::string>{"/a/config", "/b/config", "/c/config"}));
}

TEST(KubeconfigTest, ExecEntryParsedAndValidated) {
  auto kc = ParseKubeconfig(R"(
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --x]
      env: [{name: FOO, value: bar}]
      interactiveMode: Never
      provideClusterInfo: true
)",
                            "/k/config");
  ASSERT_TRUE(kc.ok()) << kc.status();
  const ExecConfig& e = *kc->users.at("u").exec;
  EXPECT_EQ(e.command, "/k/bin/plugin");
  EXPECT_EQ(e.args, (std::vector<std::string>{"get-token", "--x"}));
  ASSERT_EQ(e.env.size(), 1u);
  EXPECT_EQ(e.env[0].first, "FOO");
  EXPECT_TRUE(e.provide_cluster_info);

  auto old = ParseKubeconfig(R"(
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: p}
)",
                             "/k/config");
  ASSERT_FALSE(old.ok());
  EXPECT_THAT(old.status().message(),
              HasSubstr("kubeconfig /k/config: users[0].user.exec.apiVersion"));
  auto interactive = ParseKubeconfig(R"(
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: Always}
)",
                                     "/k/config");
  EXPECT_THAT(interactive.status().message(), HasSubstr("interactiveMode"));
}

TEST(KubeconfigTest, CaAndInsecureTogetherRejected) {
  auto kc = ParseKubeconfig(R"(
clusters: [{name: c, cluster: {server: "https://k", insecure-skip-tls-verify: true,
            certificate-authority-data: Q0E=}}]
contexts: [{name: x, context: {cluster: c}}]
)",
                            "/k/config");
  ASSERT_TRUE(kc.ok()) << kc.status();
  FakeClock clock;
  auto rc = BuildRestConfig(*kc, "x", &clock);
  EXPECT_THAT(rc.status().message(), HasSubstr("both set"));
}

TEST(Base64Test, RoundTrip) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x01\xff\x80 binary"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(Base64Decode("a$b").has_value());
}

}  // namespace
}  // namespace sg::kube
