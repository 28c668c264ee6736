// Client request building over a recording Transport: paths, query strings,
// verbs, content types and bodies. (Behaviour against the real API server is
// covered by the e2e suite in tests/e2e/kube.)
#include "kube/client/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

namespace sg::kube {
namespace {

using ::testing::HasSubstr;

class RecordingTransport : public Transport {
 public:
  StatusOr<Response> Do(const Request& r) override {
    requests.push_back(r);
    if (answers.empty()) return Response{200, {}, "{}"};
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
  Status Stream(const Request& r, const DataCallback& on_data, const Cancellation&) override {
    requests.push_back(r);
    return on_data("{}\n");
  }
  std::string Header(size_t i, const std::string& name) const {
    for (const auto& [k, v] : requests.at(i).headers) {
      if (k == name) return v;
    }
    return "";
  }
  std::vector<Request> requests;
  std::deque<StatusOr<Response>> answers;
};

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    auto t = std::make_unique<RecordingTransport>();
    t_ = t.get();
    client_ = std::make_unique<Client>(std::move(t));
  }
  RecordingTransport* t_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, GetAndListPaths) {
  ASSERT_TRUE(client_->Get(gvr::ConfigMap(), "ns1", "cm").ok());
  ASSERT_TRUE(client_->Get(gvr::Namespace(), "ignored", "kube-system").ok());
  ListOptions o;
  o.label_selector = "app=x,tier!=db";
  o.field_selector = "metadata.name=a";
  o.limit = 10;
  o.continue_token = "abc/=";
  ASSERT_TRUE(client_->List(gvr::Job(), "ns1", o).ok());
  ASSERT_TRUE(client_->List(gvr::SchemaMigration(), "", {}).ok());
  ASSERT_EQ(t_->requests.size(), 4u);
  EXPECT_EQ(t_->requests[0].method, "GET");
  EXPECT_EQ(t_->requests[0].path, "/api/v1/namespaces/ns1/configmaps/cm");
  EXPECT_EQ(t_->requests[1].path, "/api/v1/namespaces/kube-system");
  EXPECT_EQ(t_->requests[2].path,
            "/apis/batch/v1/namespaces/ns1/jobs?labelSelector=app%3Dx%2Ctier%21%3Ddb"
            "&fieldSelector=metadata.name%3Da&limit=10&continue=abc%2F%3D");
  EXPECT_EQ(t_->requests[3].path, "/apis/schemagate.dev/v1alpha1/schemamigrations");
}

TEST_F(ClientTest, CreateUpdateAndStatus) {
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "a"}, {"resourceVersion", "7"}}}};
  WriteOptions w;
  w.field_manager = "schemagate";
  ASSERT_TRUE(client_->Create(gvr::ConfigMap(), "ns", cm, w).ok());
  ASSERT_TRUE(client_->Update(gvr::ConfigMap(), "ns", cm).ok());
  ASSERT_TRUE(client_->UpdateStatus(gvr::SchemaMigration(), "ns", cm).ok());
  EXPECT_EQ(t_->requests[0].method, "POST");
  EXPECT_EQ(t_->requests[0].path, "/api/v1/namespaces/ns/configmaps?fieldManager=schemagate");
  EXPECT_EQ(Json::parse(t_->requests[0].body), cm);
  EXPECT_EQ(t_->Header(0, "Content-Type"), "application/json");
  EXPECT_EQ(t_->requests[1].method, "PUT");
  EXPECT_EQ(t_->requests[1].path, "/api/v1/namespaces/ns/configmaps/a");
  EXPECT_EQ(Json::parse(t_->requests[1].body)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(t_->requests[2].path,
            "/apis/schemagate.dev/v1alpha1/namespaces/ns/schemamigrations/a/status");
}

TEST_F(ClientTest, WriteValidation) {
  Json other_ns = {{"metadata", {{"name", "a"}, {"namespace", "other"}}}};
  EXPECT_EQ(client_->Create(gvr::ConfigMap(), "ns", other_ns).status().code(), Code::kInvalid);
  EXPECT_EQ(client_->Create(gvr::ConfigMap(), "", Json::object()).status().code(), Code::kInvalid);
  EXPECT_EQ(client_->Update(gvr::ConfigMap(), "ns", Json::object()).status().code(),
            Code::kInvalid);
  EXPECT_EQ(client_->Get(gvr::Pod(), "ns", "").status().code(), Code::kInvalid);
  EXPECT_TRUE(t_->requests.empty());
}

TEST_F(ClientTest, DeleteOptionsBody) {
  DeleteOptions d;
  d.propagation = PropagationPolicy::kForeground;
  d.precondition_resource_version = "9";
  d.precondition_uid = "u-1";
  d.grace_period_seconds = 0;
  ASSERT_TRUE(client_->Delete(gvr::Job(), "ns", "j", d).ok());
  EXPECT_EQ(t_->requests[0].method, "DELETE");
  EXPECT_EQ(t_->requests[0].path, "/apis/batch/v1/namespaces/ns/jobs/j");
  Json body = Json::parse(t_->requests[0].body);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "9");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
}

TEST_F(ClientTest, PatchKinds) {
  PatchOptions apply;
  apply.field_manager = "schemagate";
  apply.force = true;
  ASSERT_TRUE(client_
                  ->Patch(gvr::Lease(), "ns", "l", PatchType::kMerge,
                          {{"spec", {{"holderIdentity", "me"}}}})
                  .ok());
  ASSERT_TRUE(client_
                  ->Patch(gvr::Lease(), "ns", "l", PatchType::kJson,
                          Json::array({{{"op", "remove"}, {"path", "/spec/x"}}}))
                  .ok());
  ASSERT_TRUE(client_
                  ->PatchStatus(gvr::SchemaMigration(), "ns", "m", PatchType::kApply,
                                {{"apiVersion", "schemagate.dev/v1alpha1"}}, apply)
                  .ok());
  EXPECT_EQ(t_->Header(0, "Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(t_->Header(1, "Content-Type"), "application/json-patch+json");
  EXPECT_EQ(t_->Header(2, "Content-Type"), "application/apply-patch+yaml");
  EXPECT_EQ(t_->requests[2].method, "PATCH");
  EXPECT_EQ(t_->requests[2].path,
            "/apis/schemagate.dev/v1alpha1/namespaces/ns/schemamigrations/m/status"
            "?fieldManager=schemagate&force=true");
  // Apply without a field manager, or a JSON patch that is not a list, is
  // refused before any request.
  EXPECT_EQ(
      client_->Patch(gvr::Lease(), "ns", "l", PatchType::kApply, Json::object()).status().code(),
      Code::kInvalid);
  EXPECT_EQ(
      client_->Patch(gvr::Lease(), "ns", "l", PatchType::kJson, Json::object()).status().code(),
      Code::kInvalid);
  EXPECT_EQ(t_->requests.size(), 3u);
}

TEST_F(ClientTest, ErrorsPassThrough) {
  t_->answers.push_back(ConflictError("stale (Conflict, HTTP 409)"));
  auto r = client_->Update(gvr::ConfigMap(), "ns", {{"metadata", {{"name", "a"}}}});
  EXPECT_EQ(r.status().code(), Code::kConflict);
  t_->answers.push_back(Response{200, {}, "not json"});
  EXPECT_EQ(client_->Get(gvr::Pod(), "ns", "p").status().code(), Code::kInternal);
}

TEST_F(ClientTest, ListAllFollowsContinue) {
  t_->answers.push_back(
      Response{200,
               {},
               R"({"kind":"PodList","metadata":{"resourceVersion":"50","continue":"c1"},)"
               R"("items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})"});
  t_->answers.push_back(Response{200,
                                 {},
                                 R"({"kind":"PodList","metadata":{"resourceVersion":"50"},)"
                                 R"("items":[{"metadata":{"name":"c"}}]})"});
  ListOptions o;
  o.limit = 2;
  o.resource_version = "0";
  auto all = ListAll(*client_, gvr::Pod(), "ns", o);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*all)["items"].size(), 3u);
  EXPECT_EQ((*all)["metadata"]["resourceVersion"], "50");
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
  ASSERT_EQ(t_->requests.size(), 2u);
  EXPECT_EQ(t_->requests[0].path, "/api/v1/namespaces/ns/pods?limit=2&resourceVersion=0");
  EXPECT_EQ(t_->requests[1].path, "/api/v1/namespaces/ns/pods?limit=2&continue=c1");
}

TEST_F(ClientTest, WatchQuery) {
  ListOptions o;
  o.resource_version = "42";
  o.allow_watch_bookmarks = true;
  o.timeout_seconds = 300;
  o.limit = 5;  // ignored for watches
  Cancellation c;
  ASSERT_TRUE(client_
                  ->WatchRaw(
                      gvr::Lease(), "ns", o, [](std::string_view) { return OkStatus(); }, c)
                  .ok());
  EXPECT_EQ(t_->requests[0].path,
            "/apis/coordination.k8s.io/v1/namespaces/ns/leases?watch=1&resourceVersion=42"
            "&allowWatchBookmarks=true&timeoutSeconds=300");
  EXPECT_EQ(t_->requests[0].timeout, std::chrono::seconds(330));
}

}  // namespace
}  // namespace sg::kube
