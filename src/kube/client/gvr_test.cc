#include "kube/client/gvr.h"

#include <gtest/gtest.h>

namespace sg::kube {
namespace {

TEST(GvrTest, Paths) {
  EXPECT_EQ(ResourcePath(gvr::Pod(), "ns", "p", "status"), "/api/v1/namespaces/ns/pods/p/status");
  EXPECT_EQ(ResourcePath(gvr::Pod(), "", ""), "/api/v1/pods");
  EXPECT_EQ(ResourcePath(gvr::Lease(), "kube-system", "x"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x");
  EXPECT_EQ(ResourcePath(gvr::Namespace(), "ignored", "default"), "/api/v1/namespaces/default");
  EXPECT_EQ(ResourcePath(gvr::ConfigMap(), "n s", "a/b"),
            "/api/v1/namespaces/n%20s/configmaps/a%2Fb");
  EXPECT_EQ(gvr::Job().ApiVersion(), "batch/v1");
  EXPECT_EQ(gvr::Pod().ApiVersion(), "v1");
  EXPECT_EQ(gvr::Event().ToString(), "events.v1.events.k8s.io");
  EXPECT_EQ(gvr::SchemaMigration().ApiVersion(), "schemagate.dev/v1alpha1");
}

TEST(GvrTest, Escape) {
  EXPECT_EQ(EscapeComponent("a-b.c_d~e"), "a-b.c_d~e");
  EXPECT_EQ(EscapeComponent("k in (a,b)"), "k%20in%20%28a%2Cb%29");
}

}  // namespace
}  // namespace sg::kube
