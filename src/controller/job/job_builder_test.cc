#include "controller/job/job_builder.h"

#include <gtest/gtest.h>

namespace sg::controller {
namespace {

using nlohmann::json;

ObjectMeta Meta() {
  ObjectMeta m;
  m.ns = "shop";
  m.name = "accounts";
  m.uid = "u-1";
  m.generation = 3;
  return m;
}

TEST(JobBuilderTest, NameIsDeterministicAndChangesWithEachInput) {
  std::string n = JobName(Meta(), "c", 5, 0);
  EXPECT_EQ(n, JobName(Meta(), "c", 5, 0));
  EXPECT_EQ(n.rfind("accounts-", 0), 0u);
  EXPECT_EQ(n.size(), std::string("accounts-").size() + 10);
  EXPECT_NE(n, JobName(Meta(), "c", 5, 1));
  EXPECT_NE(n, JobName(Meta(), "d", 5, 0));
  EXPECT_NE(n, JobName(Meta(), "c", 6, 0));
  ObjectMeta long_name = Meta();
  long_name.name = std::string(60, 'a');
  EXPECT_LE(JobName(long_name, "c", 5, 0).size(), 63u);
}

TEST(JobBuilderTest, SecretRefJob) {
  auto spec = ParseSpec(json::parse(R"({"database":{"secretRef":{"name":"db"}},
      "source":{"configMaps":["m1","m2"]},
      "runner":{"lockTimeout":"3s","trackingTable":"t","allowOutOfOrder":true},
      "job":{"podLabels":{"team":"x","schemagate.dev/migration":"evil"},"backoffLimit":2}})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  JobPlan plan{"accounts-abc", 7, 5, false, {"m1", "m2"}, "schemagate:dev"};
  json job = BuildJob(Meta(), *spec, plan);
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(job["spec"]["backoffLimit"], 2);
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 600);
  const json& pod = job["spec"]["template"];
  EXPECT_EQ(pod["metadata"]["labels"]["schemagate.dev/migration"], "accounts");
  EXPECT_EQ(pod["metadata"]["labels"]["team"], "x");
  const json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "schemagate:dev");
  std::vector<std::string> args = c["args"];
  std::vector<std::string> want = {"migrate",
                                   "up",
                                   "--target",
                                   "5",
                                   "--dir",
                                   "/migrations",
                                   "--lock=none",
                                   "--fence-token",
                                   "7",
                                   "--output",
                                   "json",
                                   "--termination-log",
                                   "/dev/termination-log",
                                   "--identity",
                                   "$(POD_NAME)",
                                   "--lock-timeout",
                                   "3s",
                                   "--table",
                                   "t",
                                   "--allow-out-of-order"};
  EXPECT_EQ(args, want);
  EXPECT_EQ(c["env"][1]["valueFrom"]["secretKeyRef"]["name"], "db");
  EXPECT_EQ(c["env"][1]["valueFrom"]["secretKeyRef"]["key"], "url");
  EXPECT_EQ(c["terminationMessagePolicy"], "FallbackToLogsOnError");
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"][0], "ALL");
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(pod["spec"]["volumes"][0]["projected"]["sources"].size(), 2u);
  const json& rules = job["spec"]["podFailurePolicy"]["rules"];
  EXPECT_EQ(rules[1]["action"], "FailJob");
  EXPECT_EQ(rules[1]["onExitCodes"]["values"], json({2, 3, 4, 6}));
  EXPECT_EQ(rules[2]["action"], "Count");
  EXPECT_EQ(rules[2]["onExitCodes"]["values"], json({5, 7, 8}));  // 8: SIGTERM, retried
  // The runner stops within 2 s of SIGTERM; the Lease waits for the pod.
  EXPECT_EQ(job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], 10);
}

TEST(JobBuilderTest, DiscreteFieldsAndImageSource) {
  auto spec = ParseSpec(json::parse(R"({"database":{"host":"pg.local","port":6543,
      "dbname":"it's","userSecretRef":{"name":"u","key":"user"},
      "passwordSecretRef":{"name":"p","key":"pw"}},
      "source":{"image":{"ref":"migs:1","path":"/sql"}},"targetVersion":2,"allowDown":true})"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  JobPlan plan{"a-b", 1, 2, true, {}, "img"};
  json job = BuildJob(Meta(), *spec, plan);
  const json& pod = job["spec"]["template"]["spec"];
  const json& env = pod["containers"][0]["env"];
  EXPECT_EQ(env[1]["value"], "host='pg.local' port=6543 dbname='it\\'s'");
  EXPECT_EQ(env[2]["name"], "PGUSER");
  EXPECT_EQ(env[3]["name"], "PGPASSWORD");
  EXPECT_EQ(env[3]["valueFrom"]["secretKeyRef"]["key"], "pw");
  EXPECT_EQ(pod["initContainers"][0]["command"], json({"cp", "-R", "/sql/.", "/migrations/"}));
  EXPECT_TRUE(pod["volumes"][0].contains("emptyDir"));
  std::vector<std::string> args = pod["containers"][0]["args"];
  EXPECT_EQ(args[1], "down");
  EXPECT_EQ(args[3], "2");
}

// The pod must pass the "restricted" Pod Security Standard (namespaces
// labelled pod-security.kubernetes.io/enforce=restricted admit it), for
// ConfigMap and image sources alike: every container (init too) non-root,
// no privilege escalation, all capabilities dropped, RuntimeDefault seccomp,
// read-only root; only emptyDir/projected volumes; no host namespaces;
// no API token.
TEST(JobBuilderTest, PodMeetsTheRestrictedPodSecurityStandard) {
  for (const char* source :
       {R"({"configMaps":["m"]})", R"({"image":{"ref":"migs:1","path":"/sql"}})"}) {
    SCOPED_TRACE(source);
    auto spec = ParseSpec(json::parse(std::string(R"({"database":{"secretRef":{"name":"db"}},
        "source":)") + source + "}"));
    ASSERT_TRUE(spec.ok()) << spec.status();
    JobPlan plan{"a-b", 1, std::nullopt, false, {"m"}, "img"};
    const json pod = BuildJob(Meta(), *spec, plan)["spec"]["template"]["spec"];
    EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
    EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    EXPECT_EQ(pod["automountServiceAccountToken"], false);
    for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) EXPECT_FALSE(pod.contains(host));
    std::vector<json> containers = pod["containers"];
    if (pod.contains("initContainers")) {
      for (const json& c : pod["initContainers"]) containers.push_back(c);
    }
    EXPECT_EQ(containers.size(), std::string(source).find("image") != std::string::npos ? 2u : 1u);
    for (const json& c : containers) {
      SCOPED_TRACE(c["name"].get<std::string>());
      const json& sc = c["securityContext"];
      EXPECT_EQ(sc["runAsNonRoot"], true);
      EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
      EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
      EXPECT_EQ(sc["capabilities"]["drop"], json({"ALL"}));
      EXPECT_FALSE(sc["capabilities"].contains("add"));
      EXPECT_EQ(sc["seccompProfile"]["type"], "RuntimeDefault");
      EXPECT_FALSE(sc.contains("privileged"));
      EXPECT_FALSE(c.contains("ports"));
    }
    for (const json& v : pod["volumes"]) {
      EXPECT_TRUE(v.contains("emptyDir") || v.contains("projected")) << v.dump();
    }
  }
}

}  // namespace
}  // namespace sg::controller
