// The Reconciler against the real local API server: a Job is created only
// while the database claim is verifiably held at that moment. The status
// write comes first in a pass and may take long (a slow API server); if the
// claim lapsed meanwhile, the pass must not create the Job. A transport
// decorator moves the Reconciler's FakeClock past the claim's renew deadline
// right after the status write returns; the check is the API server's own
// list of Jobs. The caches run on the real clock.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "chart/rendered.h"
#include "controller/reconciler.h"
#include "controller/resource_cache.h"
#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/transport/rest_transport.h"
#include "support/kube_env.h"

namespace sg::controller {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Calls `after` once a request has returned (the test's hook into time).
class HookTransport : public kube::Transport {
 public:
  HookTransport(std::unique_ptr<kube::Transport> inner,
                std::function<void(const kube::Request&)> after)
      : inner_(std::move(inner)), after_(std::move(after)) {}
  StatusOr<kube::Response> Do(const kube::Request& request) override {
    auto r = inner_->Do(request);
    after_(request);
    return r;
  }
  Status Stream(const kube::Request& request, const DataCallback& on_data,
                const kube::Cancellation& cancel) override {
    return inner_->Stream(request, on_data, cancel);
  }

 private:
  std::unique_ptr<kube::Transport> inner_;
  std::function<void(const kube::Request&)> after_;
};

const kube::Gvr& Crd() {
  static const kube::Gvr g{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                           "CustomResourceDefinition", false};
  return g;
}

class ReconcilerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::LoadOptions o;
    o.kubeconfig = testing::FindKubeconfig();
    ASSERT_FALSE(o.kubeconfig.empty()) << "no local cluster: run scripts/cluster.sh up";
    auto rc = kube::LoadRestConfig(o);
    ASSERT_TRUE(rc.ok()) << rc.status();
    auto t = kube::RestTransport::Create(*rc);
    ASSERT_TRUE(t.ok()) << t.status();
    auto hook = std::make_unique<HookTransport>(std::move(t).value(),
                                                [this](const kube::Request& r) { After(r); });
    client_ = std::make_unique<kube::Client>(std::move(hook));

    std::ifstream in(std::string(SG_SOURCE_DIR) + "/crds/schemagate.dev_schemamigrations.yaml");
    std::stringstream yaml;
    yaml << in.rdbuf();
    auto crd = client_->Create(Crd(), "", testing::YamlTextToJson(yaml.str()));
    ASSERT_TRUE(crd.ok() || crd.status().code() == Code::kAlreadyExists) << crd.status();
    std::mt19937_64 rng(std::random_device{}());
    ns_ = "reconciler-e2e-" + std::to_string(rng() % 1000000000);
    ASSERT_TRUE(client_->Create(kube::gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}}).ok());
    // The CRD may still be establishing: retry the first object briefly.
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", "m"}}},
               {"data", {{"0001_a.up.sql", "CREATE TABLE a (x int);"}}}};
    ASSERT_TRUE(client_->Create(kube::gvr::ConfigMap(), ns_, cm).ok());
    json sm = {
        {"apiVersion", "schemagate.dev/v1alpha1"},
        {"kind", "SchemaMigration"},
        {"metadata", {{"name", "app"}}},
        {"spec",
         {{"database", {{"secretRef", {{"name", "db"}}}}}, {"source", {{"configMaps", {"m"}}}}}}};
    auto deadline = std::chrono::steady_clock::now() + 30s;
    StatusOr<json> created = client_->Create(kube::gvr::SchemaMigration(), ns_, sm);
    while (!created.ok() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(200ms);
      created = client_->Create(kube::gvr::SchemaMigration(), ns_, sm);
    }
    ASSERT_TRUE(created.ok()) << created.status();

    std::vector<std::string> scope = {ns_};
    migrations_ = std::make_unique<ResourceCache>(client_.get(), kube::gvr::SchemaMigration(),
                                                  scope, kube::WatcherOptions{}, Clock::Real());
    config_maps_ = std::make_unique<ResourceCache>(client_.get(), kube::gvr::ConfigMap(), scope,
                                                   ConfigMapCacheOptions(), Clock::Real());
    jobs_ = std::make_unique<ResourceCache>(client_.get(), kube::gvr::Job(), scope,
                                            kube::WatcherOptions{}, Clock::Real());
    pods_ = std::make_unique<ResourceCache>(client_.get(), kube::gvr::Pod(), scope,
                                            kube::WatcherOptions{}, Clock::Real());
    for (auto* c : {migrations_.get(), config_maps_.get(), jobs_.get(), pods_.get()}) {
      c->Start();
      ASSERT_TRUE(c->WaitForSync(Clock::Real()->Now() + 30s));
    }
    ReconcilerOptions ro;
    ro.operator_namespace = ns_;  // the database Lease lives beside the test's objects
    reconciler_ = std::make_unique<Reconciler>(
        client_.get(), Caches{migrations_.get(), config_maps_.get(), jobs_.get(), pods_.get()},
        &clock_, ro, nullptr);
  }
  void TearDown() override {
    reconciler_.reset();
    for (auto* c : {migrations_.get(), config_maps_.get(), jobs_.get(), pods_.get()}) {
      if (c) c->Stop();
    }
    if (client_ && !ns_.empty()) {
      // Our finalizer would keep the namespace Terminating: drop it first.
      client_
          ->Patch(kube::gvr::SchemaMigration(), ns_, "app", kube::PatchType::kMerge,
                  {{"metadata", {{"finalizers", nullptr}}}})
          .status()
          .IgnoreError();
      client_->Delete(kube::gvr::Namespace(), "", ns_).IgnoreError();
    }
  }

  // After the status write of the SchemaMigration: the claim lapses (the
  // database Lease's renew deadline is 40 s) while the pass goes on.
  void After(const kube::Request& r) {
    if (!lapse_after_status_ || r.method != "PATCH") return;
    if (r.path.find("/schemamigrations/app/status") == std::string::npos) return;
    clock_.Advance(45s);
    lapsed_ = true;
  }

  size_t JobsInApiServer() {
    auto list = client_->List(kube::gvr::Job(), ns_);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? (*list)["items"].size() : 0;
  }

  // Reconciles until a pass succeeds (a stale cache gives a 409 first).
  ReconcileResult ReconcileUntilOk() {
    ReconcileResult r;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    do {
      r = reconciler_->Reconcile(ns_, "app");
      if (r.status.ok()) break;
      std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }

  FakeClock clock_;
  std::unique_ptr<kube::Client> client_;
  std::string ns_;
  std::unique_ptr<ResourceCache> migrations_, config_maps_, jobs_, pods_;
  std::unique_ptr<Reconciler> reconciler_;
  std::atomic<bool> lapse_after_status_{false};
  std::atomic<bool> lapsed_{false};
};

TEST_F(ReconcilerE2eTest, NoJobOnceTheClaimLapsedDuringTheStatusWrite) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!migrations_->Get(ns_, "app") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(migrations_->Get(ns_, "app"));
  lapse_after_status_ = true;
  ReconcileResult r = reconciler_->Reconcile(ns_, "app");
  ASSERT_TRUE(lapsed_) << "the pass never wrote the status: " << r.status;
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.code(), Code::kUnavailable) << r.status;
  EXPECT_EQ(JobsInApiServer(), 0u) << "a Job was created after the claim lapsed";

  // Control: the same Reconciler renews the claim on its next pass and then
  // does create the Job (so the check above could have seen one).
  lapse_after_status_ = false;
  ReconcileResult again = ReconcileUntilOk();
  EXPECT_TRUE(again.status.ok()) << again.status;
  EXPECT_EQ(JobsInApiServer(), 1u);
}

}  // namespace
}  // namespace sg::controller
