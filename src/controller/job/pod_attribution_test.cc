#include "controller/job/pod_attribution.h"

#include <gtest/gtest.h>

namespace sg::controller {
namespace {

using nlohmann::json;

json Job(const std::string& name, const std::string& uid, const std::string& owner_uid) {
  return {{"metadata",
           {{"name", name},
            {"uid", uid},
            {"ownerReferences", {{{"kind", "SchemaMigration"}, {"uid", owner_uid}}}}}}};
}

// A pod with the runner labels a Job's pod carries, copied by anyone.
json Pod(const std::string& name, const std::string& job_name, const std::string& phase) {
  return {{"metadata",
           {{"name", name},
            {"labels",
             {{"schemagate.dev/migration", "app"},
              {"batch.kubernetes.io/job-name", job_name},
              {"job-name", job_name}}}}},
          {"status", {{"phase", phase}}}};
}

json ControlledBy(json pod, const std::string& job_uid) {
  pod["metadata"]["ownerReferences"] = {
      {{"kind", "Job"}, {"name", "x"}, {"uid", job_uid}, {"controller", true}}};
  return pod;
}

std::vector<const json*> Ptrs(const std::vector<json>& objects) {
  std::vector<const json*> out;
  for (const json& o : objects) out.push_back(&o);
  return out;
}

TEST(PodAttributionTest, OnlyTheJobsControllerUidAttributesAPod) {
  std::vector<json> jobs = {Job("app-1", "job-uid-1", "sm-uid"),
                            Job("other-1", "job-uid-2", "other-sm-uid")};
  std::vector<json> pods = {
      ControlledBy(Pod("app-1-real", "app-1", "Failed"), "job-uid-1"),
      // The labels of app-1's pods, and a later result, but nobody's Job.
      Pod("forged", "app-1", "Succeeded"),
      // The labels, and a non-controller reference to the Job.
      [] {
        json p = Pod("forged-ref", "app-1", "Succeeded");
        p["metadata"]["ownerReferences"] = {{{"kind", "Job"}, {"uid", "job-uid-1"}}};
        return p;
      }(),
      ControlledBy(Pod("other-pod", "other-1", "Succeeded"), "job-uid-2"),
  };
  PodAttribution a = AttributePods(Ptrs(jobs), Ptrs(pods), "sm-uid", "app");
  ASSERT_EQ(a.pods_by_job_uid.size(), 1u);
  ASSERT_EQ(a.pods_by_job_uid["job-uid-1"].size(), 1u);
  EXPECT_EQ(a.pods_by_job_uid["job-uid-1"][0]["metadata"]["name"], "app-1-real");
  EXPECT_EQ(a.foreign_pods, (std::vector<std::string>{"forged", "forged-ref", "other-pod"}));
  EXPECT_TRUE(a.live_runner_pods.empty());
}

// An orphaned runner (its Job deleted with --cascade=orphan) still migrates:
// it keeps the Lease, whoever controls it.
TEST(PodAttributionTest, LiveRunnerPodsCountWithoutTheirJob) {
  std::vector<json> pods = {ControlledBy(Pod("orphan", "app-1", "Running"), "gone-uid"),
                            Pod("pending", "app-2", "Pending"),
                            ControlledBy(Pod("done", "app-1", "Succeeded"), "gone-uid")};
  PodAttribution a = AttributePods({}, Ptrs(pods), "sm-uid", "app");
  EXPECT_EQ(a.live_runner_pods, (std::vector<std::string>{"orphan", "pending"}));
  EXPECT_EQ(a.foreign_pods, (std::vector<std::string>{"done"}));
}

TEST(PodAttributionTest, HostileObjectsNeverThrow) {
  std::vector<json> odd = {json(),
                           json(1),
                           json{{"metadata", 3}},
                           json{{"metadata", {{"ownerReferences", 5}}}},
                           json{{"metadata", {{"ownerReferences", {3, "x", {{"uid", 4}}}}}}},
                           json{{"metadata",
                                 {{"ownerReferences", {{{"controller", "yes"}, {"kind", "Job"}}}},
                                  {"labels", {{"schemagate.dev/migration", 1}}}}},
                                {"status", 2}}};
  PodAttribution a;
  EXPECT_NO_THROW(a = AttributePods(Ptrs(odd), Ptrs(odd), "sm-uid", "app"));
  EXPECT_TRUE(a.pods_by_job_uid.empty());
  EXPECT_NO_THROW(OwnedBy(json{{"metadata", {{"ownerReferences", {{{"uid", 1}}}}}}}, "x"));
}

}  // namespace
}  // namespace sg::controller
