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

TEST(KubeLeaseLockTest, GetReadsTheFencingTokenAnnotation) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders");
  json with = LeaseObject("41", "pod-a");
  with["metadata"]["annotations"] = {{"schemagate.dev/fencing-token", "37"},
                                     {"schemagate.dev/database", "orders"}};
  t.Answer(with);
  auto got = lock.Get(1s);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record.fencing_token, 37);
  EXPECT_EQ(got->record.lease_transitions, 2);  // the spec is unaffected

  t.Answer(LeaseObject("42", "pod-a"));  // no annotations at all
  got = lock.Get(1s);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->record.fencing_token, std::nullopt);

  // Not a token we could have written: read as none, so the holder's next
  // write derives a fresh one (see lease_claim.h) instead of failing forever.
  for (json bad : {json("x7"), json("0"), json("-3"), json(""), json(12)}) {
    json o = LeaseObject("43", "pod-a");
    o["metadata"]["annotations"] = {{"schemagate.dev/fencing-token", bad}};
    t.Answer(o);
    got = lock.Get(1s);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->record.fencing_token, std::nullopt) << bad;
  }
}

TEST(KubeLeaseLockTest, UpdateWritesTheRecordsTokenAndKeepsOtherAnnotations) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders");
  json seen = LeaseObject("41", "pod-a");
  seen["metadata"]["annotations"] = {{"schemagate.dev/fencing-token", "37"},
                                     {"schemagate.dev/database", "orders"}};
  t.Answer(seen);
  ASSERT_TRUE(lock.Get(1s).ok());

  // A new tenure: the record's token replaces the one last seen.
  LeaseRecord r;
  r.holder_identity = "pod-b";
  r.lease_duration_seconds = 15;
  r.fencing_token = 42;
  json answer = LeaseObject("42", "pod-b");
  answer["metadata"]["annotations"] = {{"schemagate.dev/fencing-token", "42"},
                                       {"schemagate.dev/database", "orders"}};
  t.Answer(answer);
  auto updated = lock.Update("41", r, 1s);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->record.fencing_token, 42);
  json body = json::parse(t.requests.at(1).body);
  EXPECT_EQ(body["metadata"]["annotations"]["schemagate.dev/fencing-token"], "42");
  EXPECT_EQ(body["metadata"]["annotations"]["schemagate.dev/database"], "orders");
  EXPECT_FALSE(body["spec"].contains("fencingToken"));  // not in the spec

  // A record without a token writes none, even if the object had one.
  r.fencing_token.reset();
  t.Answer(LeaseObject("43", "pod-b"));
  ASSERT_TRUE(lock.Update("42", r, 1s).ok());
  body = json::parse(t.requests.at(2).body);
  EXPECT_FALSE(body["metadata"].contains("annotations") &&
               body["metadata"]["annotations"].contains("schemagate.dev/fencing-token"))
      << body.dump();
}

TEST(KubeLeaseLockTest, CreateWritesATokenOnlyWhenTheRecordHasOne) {
  ScriptedTransport t;
  KubeLeaseLock lock(&t, "shop", "db-orders", json::object(),
                     {{"schemagate.dev/database", "orders"}});
  LeaseRecord free;  // created free: no holder, no token
  t.Answer(LeaseObject("1", ""));
  ASSERT_TRUE(lock.Create(free, 1s).ok());
  json body = json::parse(t.requests.at(0).body);
  EXPECT_FALSE(body["metadata"]["annotations"].contains("schemagate.dev/fencing-token"));
  EXPECT_EQ(body["metadata"]["annotations"]["schemagate.dev/database"], "orders");

  LeaseRecord held;
  held.holder_identity = "pod-a";
  held.fencing_token = 9;
  t.Answer(LeaseObject("2", "pod-a"));
  ASSERT_TRUE(lock.Create(held, 1s).ok());
  body = json::parse(t.requests.at(1).body);
  EXPECT_EQ(body["metadata"]["annotations"]["schemagate.dev/fencing-token"], "9");
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
