// End-to-end: the kube client against the real local API server
// (scripts/cluster.sh). CRUD with every write verb, 409 on a stale update,
// the status subresource of a custom resource, bearer-token auth mapped to
// Forbidden/Unauthorized, and the Watcher's list+watch. (410 after an etcd
// compaction is not forced here yet: the watch cache serves old RVs.)
//
// The cluster is found through $KUBECONFIG, else `scripts/cluster.sh env`.
// Waits use deadlines on condition variables or polls, never fixed sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/transport/rest_transport.h"
#include "kube/watch/watcher.h"
#include "support/kube_env.h"

namespace sg::kube {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

using ::sg::testing::FindKubeconfig;

class KubeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions o;
    o.kubeconfig = FindKubeconfig();
    ASSERT_FALSE(o.kubeconfig.empty()) << "no local cluster: run scripts/cluster.sh up";
    auto rc = LoadRestConfig(o);
    ASSERT_TRUE(rc.ok()) << rc.status();
    config_ = *rc;
    client_ = NewClient(config_);
    ASSERT_NE(client_, nullptr);
    auto ready = client_->transport().Do(Get("/readyz"));
    ASSERT_TRUE(ready.ok()) << "local cluster not ready: " << ready.status();
    std::mt19937_64 rng(std::random_device{}());
    ns_ = "kube-e2e-" + std::to_string(rng() % 1000000000);
    auto created = client_->Create(gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status();
  }
  void TearDown() override {
    if (client_ && !ns_.empty()) client_->Delete(gvr::Namespace(), "", ns_).IgnoreError();
  }

  static std::unique_ptr<Client> NewClient(const RestConfig& rc) {
    auto c = kube::NewClient(rc);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  static Request Get(std::string path) {
    Request r;
    r.path = std::move(path);
    return r;
  }
  static Json ConfigMap(const std::string& name, Json data, Json labels = Json::object()) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", labels}}},
            {"data", data}};
  }

  RestConfig config_;
  std::unique_ptr<Client> client_;
  std::string ns_;
};

TEST_F(KubeE2eTest, ConfigMapCrudWithConflictsAndPatches) {
  Client& c = *client_;
  auto created = c.Create(gvr::ConfigMap(), ns_, ConfigMap("cm", {{"a", "1"}}, {{"app", "e2e"}}));
  ASSERT_TRUE(created.ok()) << created.status();
  std::string rv1 = (*created)["metadata"]["resourceVersion"];

  auto dup = c.Create(gvr::ConfigMap(), ns_, ConfigMap("cm", {{"a", "1"}}));
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists) << dup.status();

  Json updated = *created;
  updated["data"]["a"] = "2";
  auto u1 = c.Update(gvr::ConfigMap(), ns_, updated);
  ASSERT_TRUE(u1.ok()) << u1.status();
  EXPECT_NE((*u1)["metadata"]["resourceVersion"], rv1);

  // The same stale resourceVersion again: 409 Conflict.
  updated["data"]["a"] = "3";
  auto stale = c.Update(gvr::ConfigMap(), ns_, updated);
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_THAT(stale.status().message(), HasSubstr("HTTP 409"));

  auto merged = c.Patch(gvr::ConfigMap(), ns_, "cm", PatchType::kMerge, {{"data", {{"b", "x"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ((*merged)["data"]["a"], "2");
  EXPECT_EQ((*merged)["data"]["b"], "x");

  auto jp = c.Patch(gvr::ConfigMap(), ns_, "cm", PatchType::kJson,
                    Json::array({{{"op", "replace"}, {"path", "/data/a"}, {"value", "4"}},
                                 {{"op", "remove"}, {"path", "/data/b"}}}));
  ASSERT_TRUE(jp.ok()) << jp.status();
  EXPECT_EQ((*jp)["data"], Json({{"a", "4"}}));

  PatchOptions apply;
  apply.field_manager = "schemagate-e2e";
  apply.force = true;
  auto applied = c.Patch(gvr::ConfigMap(), ns_, "cm", PatchType::kApply,
                         {{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata", {{"name", "cm"}}},
                          {"data", {{"a", "5"}, {"c", "ssa"}}}},
                         apply);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ((*applied)["data"]["c"], "ssa");
  bool has_manager = false;
  for (const auto& mf : (*applied)["metadata"]["managedFields"]) {
    if (mf["manager"] == "schemagate-e2e" && mf["operation"] == "Apply") has_manager = true;
  }
  EXPECT_TRUE(has_manager);

  // Pagination: 5 more objects, pages of 2, one label selector.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        c.Create(gvr::ConfigMap(), ns_,
                 ConfigMap("p" + std::to_string(i), {{"i", std::to_string(i)}}, {{"app", "e2e"}}))
            .ok());
  }
  ListOptions lo;
  lo.label_selector = "app=e2e";
  lo.limit = 2;
  auto page = c.List(gvr::ConfigMap(), ns_, lo);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ((*page)["items"].size(), 2u);
  EXPECT_FALSE((*page)["metadata"].value("continue", "").empty());
  auto all = ListAll(c, gvr::ConfigMap(), ns_, lo);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*all)["items"].size(), 6u);
  ListOptions by_name;
  by_name.field_selector = "metadata.name=p3";
  auto one = c.List(gvr::ConfigMap(), ns_, by_name);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ((*one)["items"].size(), 1u);
  EXPECT_EQ((*one)["items"][0]["data"]["i"], "3");

  DeleteOptions wrong;
  wrong.precondition_resource_version = rv1;
  EXPECT_EQ(c.Delete(gvr::ConfigMap(), ns_, "cm", wrong).code(), Code::kConflict);
  DeleteOptions bg;
  bg.propagation = PropagationPolicy::kBackground;
  ASSERT_TRUE(c.Delete(gvr::ConfigMap(), ns_, "cm", bg).ok());
  EXPECT_EQ(c.Get(gvr::ConfigMap(), ns_, "cm").status().code(), Code::kNotFound);
  EXPECT_EQ(c.Delete(gvr::ConfigMap(), ns_, "cm").code(), Code::kNotFound);
}

TEST_F(KubeE2eTest, StatusSubresourceOfACustomResource) {
  Client& c = *client_;
  const Gvr crd_gvr{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                    "CustomResourceDefinition", false};
  const Gvr widgets{"kubee2e.schemagate.dev", "v1", "widgets", "Widget", true};
  Json schema = {
      {"type", "object"},
      {"properties",
       {{"spec", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
        {"status", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}};
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.kubee2e.schemagate.dev"}}},
              {"spec",
               {{"group", "kubee2e.schemagate.dev"},
                {"scope", "Namespaced"},
                {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
                {"versions", Json::array({{{"name", "v1"},
                                           {"served", true},
                                           {"storage", true},
                                           {"subresources", {{"status", Json::object()}}},
                                           {"schema", {{"openAPIV3Schema", schema}}}}})}}}};
  auto made = c.Create(crd_gvr, "", crd);
  ASSERT_TRUE(made.ok() || made.status().code() == Code::kAlreadyExists) << made.status();

  // Wait (poll with a deadline) until the new resource is served.
  Json w = {{"apiVersion", "kubee2e.schemagate.dev/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w"}}},
            {"spec", {{"size", 1}}}};
  StatusOr<Json> created = NotFoundError("not yet");
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    created = c.Create(widgets, ns_, w);
    if (created.ok() || created.status().code() != Code::kNotFound) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll interval
  }
  ASSERT_TRUE(created.ok()) << created.status();
  int64_t generation = (*created)["metadata"]["generation"];

  Json with_status = *created;
  with_status["status"] = {{"phase", "Running"}};
  with_status["spec"]["size"] = 99;  // ignored by /status
  auto st = c.UpdateStatus(widgets, ns_, with_status);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ((*st)["status"]["phase"], "Running");
  EXPECT_EQ((*st)["spec"]["size"], 1);
  EXPECT_EQ((*st)["metadata"]["generation"], generation);

  auto stale = c.UpdateStatus(widgets, ns_, with_status);  // old resourceVersion
  EXPECT_EQ(stale.status().code(), Code::kConflict);

  auto patched = c.PatchStatus(widgets, ns_, "w", PatchType::kMerge,
                               {{"status", {{"phase", "Done"}, {"observedGeneration", 1}}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["status"]["phase"], "Done");
  EXPECT_EQ((*patched)["metadata"]["generation"], generation);
}

TEST_F(KubeE2eTest, BearerTokenAuthAndForbidden) {
  Client& c = *client_;
  auto sa = c.Create(gvr::ServiceAccount(), ns_, {{"metadata", {{"name", "nobody"}}}});
  ASSERT_TRUE(sa.ok()) << sa.status();
  Request tr;
  tr.method = "POST";
  tr.path = ResourcePath(gvr::ServiceAccount(), ns_, "nobody", "token");
  tr.headers = {{"Content-Type", "application/json"}};
  tr.body = Json({{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenRequest"},
                  {"spec", {{"expirationSeconds", 600}}}})
                .dump();
  auto resp = c.transport().Do(tr);
  ASSERT_TRUE(resp.ok()) << resp.status();
  std::string token = Json::parse(resp->body)["status"]["token"];

  RestConfig as_sa = config_;
  as_sa.tls.client_cert = {};
  as_sa.tls.client_key = {};
  as_sa.credentials = std::make_shared<StaticTokenCredentials>(token);
  auto sa_client = NewClient(as_sa);
  auto denied = sa_client->List(gvr::Secret(), ns_);
  EXPECT_EQ(denied.status().code(), Code::kForbidden) << denied.status();
  EXPECT_THAT(denied.status().message(), HasSubstr("system:serviceaccount:" + ns_ + ":nobody"));
  EXPECT_THAT(denied.status().message(), ::testing::Not(HasSubstr(token)));

  RestConfig bad = as_sa;
  bad.credentials = std::make_shared<StaticTokenCredentials>("not-a-token");
  EXPECT_EQ(NewClient(bad)->List(gvr::Secret(), ns_).status().code(), Code::kUnauthorized);
}

class EventLog {
 public:
  void Add(const WatcherEvent& e) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  bool Any(const std::function<bool(const WatcherEvent&)>& pred) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& e : events_) {
      if (pred(e)) return true;
    }
    return false;
  }
  // Waits up to 60 s for an event matching `pred`; returns it.
  std::optional<WatcherEvent> WaitFor(const std::function<bool(const WatcherEvent&)>& pred) {
    std::unique_lock<std::mutex> l(mu_);
    std::optional<WatcherEvent> found;
    cv_.wait_for(l, seconds(60), [&] {
      for (auto& e : events_) {
        if (pred(e)) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatcherEvent> events_;
};

TEST_F(KubeE2eTest, WatcherListsThenWatches) {
  Client& c = *client_;
  ASSERT_TRUE(c.Create(gvr::ConfigMap(), ns_, ConfigMap("before", {}, {{"w", "1"}})).ok());
  ClientListerWatcher lw(&c, gvr::ConfigMap(), ns_);
  WatcherOptions o;
  o.label_selector = "w=1";
  o.page_size = 1;
  Watcher watcher(&lw, Clock::Real(), o);
  EventLog log;
  std::thread runner(
      [&] { watcher.Run([&](const WatcherEvent& e) { log.Add(e); }).IgnoreError(); });

  auto restarted =
      log.WaitFor([](const WatcherEvent& e) { return e.type == WatcherEvent::Type::kRestarted; });
  ASSERT_TRUE(restarted.has_value());
  ASSERT_EQ(restarted->objects.size(), 1u);
  EXPECT_EQ(restarted->objects[0]["metadata"]["name"], "before");
  EXPECT_EQ(restarted->objects[0]["kind"], "ConfigMap");

  ASSERT_TRUE(c.Create(gvr::ConfigMap(), ns_, ConfigMap("after", {}, {{"w", "1"}})).ok());
  ASSERT_TRUE(c.Create(gvr::ConfigMap(), ns_, ConfigMap("unlabelled", {})).ok());
  auto added = log.WaitFor([](const WatcherEvent& e) {
    return e.type == WatcherEvent::Type::kApplied && e.object["metadata"]["name"] == "after";
  });
  ASSERT_TRUE(added.has_value());
  ASSERT_TRUE(c.Delete(gvr::ConfigMap(), ns_, "before").ok());
  auto deleted = log.WaitFor([](const WatcherEvent& e) {
    return e.type == WatcherEvent::Type::kDeleted && e.object["metadata"]["name"] == "before";
  });
  ASSERT_TRUE(deleted.has_value());
  // "unlabelled" was created before "before" was deleted; watch events come
  // in resourceVersion order, so had the selector let it through it would
  // already be in the log.
  EXPECT_FALSE(log.Any([](const WatcherEvent& e) {
    return e.object.is_object() && e.object["metadata"]["name"] == "unlabelled";
  }));
  watcher.Cancel();  // unblocks the open watch; Run returns
  runner.join();
  EXPECT_FALSE(watcher.resource_version().empty());
}

}  // namespace
}  // namespace sg::kube
