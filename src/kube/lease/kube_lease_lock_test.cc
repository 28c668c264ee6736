// Request building of KubeLeaseLock against a scripted Transport; the
// behaviour against the real API server is covered by tests/e2e/lease.
#include "kube/lease/kube_lease_lock.h"

#include <gtest/gtest.h>

#include <deque>

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ScriptedTransport final : public Transport {
 public:
  StatusOr<Response> Do(const Request& request) override {
    requests.push_back(request);
    auto next = std::move(answers.front());
    answers.pop_front();
    return next;
  }
  Status Stream(const Request&, const DataCallback&, const Cancellation&) override {
    return InternalError("not used");
  }
  void Answer(json body) {
    Response r;
    r.status = 200;
    r.body = body.dump();
    answers.push_back(r);
  }
  std::vector<Request> requests;
  std::deque<StatusOr<Response>> answers;
};

json LeaseObject(const std::string& rv, const std::string& holder) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata",
           {{"name", "db-orders"},
            {"namespace", "shop"},
            {"resourceVersion", rv},
            {"labels", {{"app", "schemagate"}}},
            {"managedFields", json::array()}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", 15},
            {"renewTime", "2026-01-01T00:00:00.000000Z"},
            {"leaseTransitions", 2}}}};
}

TEST(KubeLeaseLockTest, GetParsesRecordAndPassesTimeout) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders");
  t.Answer(LeaseObject("41", "pod-a"));
  auto got = lock.Get(5s);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->resource_version, "41");
  EXPECT_EQ(got->record.holder_identity, "pod-a");
  EXPECT_EQ(got->record.lease_transitions, 2);
  ASSERT_EQ(t.requests.size(), 1u);
  EXPECT_EQ(t.requests[0].method, "GET");
  EXPECT_EQ(t.requests[0].path, "/apis/coordination.k8s.io/v1/namespaces/shop/leases/db-orders");
  EXPECT_EQ(t.requests[0].timeout, 5000ms);
  EXPECT_EQ(lock.Describe(), "shop/db-orders");
}

TEST(KubeLeaseLockTest, CreatePostsLeaseWithLabelsAndAnnotations) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders", {{"app", "schemagate"}},
                     {{"schemagate.dev/database", "orders"}});
  t.Answer(LeaseObject("1", "pod-a"));
  LeaseRecord r;
  r.holder_identity = "pod-a";
  r.lease_duration_seconds = 15;
  ASSERT_TRUE(lock.Create(r, 1500us).ok());
  const auto& req = t.requests.at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/apis/coordination.k8s.io/v1/namespaces/shop/leases");
  EXPECT_EQ(req.timeout, 2ms);  // rounded up, never 0 ("no timeout")
  json body = json::parse(req.body);
  EXPECT_EQ(body["kind"], "Lease");
  EXPECT_EQ(body["metadata"]["labels"]["app"], "schemagate");
  EXPECT_EQ(body["metadata"]["annotations"]["schemagate.dev/database"], "orders");
  EXPECT_EQ(body["spec"]["holderIdentity"], "pod-a");
}

TEST(KubeLeaseLockTest, NoAnnotationsFieldWithoutAnnotations) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders");
  t.Answer(LeaseObject("1", "pod-a"));
  LeaseRecord r;
  r.holder_identity = "pod-a";
  r.lease_duration_seconds = 15;
  ASSERT_TRUE(lock.Create(r, 1s).ok());
  json body = json::parse(t.requests.at(0).body);
  EXPECT_FALSE(body["metadata"].contains("annotations"));
  EXPECT_FALSE(body["metadata"].contains("labels"));
}

TEST(KubeLeaseLockTest, UpdatePutsLastObjectWithCallersResourceVersion) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders");
  t.Answer(LeaseObject("41", "pod-a"));
  ASSERT_TRUE(lock.Get(5s).ok());
  t.answers.push_back(ConflictError("Operation cannot be fulfilled on leases"));
  LeaseRecord r;
  r.holder_identity = "pod-b";
  r.lease_duration_seconds = 15;
  r.lease_transitions = 3;
  auto updated = lock.Update("41", r, 5s);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), Code::kConflict);
  EXPECT_NE(updated.status().message().find("shop/db-orders"), std::string::npos);
  const auto& req = t.requests.at(1);
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.path, "/apis/coordination.k8s.io/v1/namespaces/shop/leases/db-orders");
  json body = json::parse(req.body);
  EXPECT_EQ(body["metadata"]["resourceVersion"], "41");
  EXPECT_EQ(body["metadata"]["labels"]["app"], "schemagate");  // preserved
  EXPECT_FALSE(body["metadata"].contains("managedFields"));
  EXPECT_EQ(body["spec"]["holderIdentity"], "pod-b");
  EXPECT_EQ(body["spec"]["leaseTransitions"], 3);
}

TEST(KubeLeaseLockTest, BadBodyIsInternalError) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders");
  Response r;
  r.status = 200;
  r.body = "<html>";
  t.answers.push_back(r);
  auto got = lock.Get(1s);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kInternal);
}

}  // namespace
}  // namespace sg::kube
