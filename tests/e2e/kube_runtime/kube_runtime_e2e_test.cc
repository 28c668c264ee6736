// End-to-end: the upper half of the kube client against the real local API
// server (scripts/cluster.sh): the Informer following ConfigMaps through the
// real Watcher, the EventRecorder aggregating repeats into an Event series,
// and LeaseClaims used as named per-database locks on real Leases.
// Waits use deadlines; nothing is timed.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/events/client_event_sink.h"
#include "kube/events/event_recorder.h"
#include "kube/informer/informer.h"
#include "kube/lease/kube_lease_lock.h"
#include "kube/lease/lease_claim.h"
#include "kube/transport/rest_transport.h"
#include "support/kube_env.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

using ::sg::testing::FindKubeconfig;

// Handler log with a deadline-bounded wait.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> lines;
  void Add(std::string s) {
    std::lock_guard<std::mutex> l(mu);
    lines.push_back(std::move(s));
    cv.notify_all();
  }
  bool WaitFor(const std::string& line, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, timeout,
                       [&] { return std::find(lines.begin(), lines.end(), line) != lines.end(); });
  }
};

class KubeRuntimeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadOptions o;
    o.kubeconfig = FindKubeconfig();
    ASSERT_FALSE(o.kubeconfig.empty()) << "no local cluster: run scripts/cluster.sh up";
    auto rc = LoadRestConfig(o);
    ASSERT_TRUE(rc.ok()) << rc.status();
    auto t = RestTransport::Create(*rc);
    ASSERT_TRUE(t.ok()) << t.status();
    client_ = std::make_unique<Client>(std::move(t).value());
    std::mt19937_64 rng(std::random_device{}());
    ns_ = "runtime-e2e-" + std::to_string(rng() % 1000000000);
    auto created = client_->Create(gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.status();
  }
  void TearDown() override {
    if (client_ && !ns_.empty()) client_->Delete(gvr::Namespace(), "", ns_).IgnoreError();
  }

  json ConfigMap(const std::string& name, const std::string& db, const std::string& value) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", {{"database", db}}}}},
            {"data", {{"v", value}}}};
  }

  std::unique_ptr<Client> client_;
  std::string ns_;
};

TEST_F(KubeRuntimeE2eTest, InformerFollowsRealObjects) {
  ASSERT_TRUE(client_->Create(gvr::ConfigMap(), ns_, ConfigMap("before", "orders", "1")).ok());

  auto source = std::make_unique<WatcherSource>(
      std::make_unique<ClientListerWatcher>(client_.get(), gvr::ConfigMap(), ns_), Clock::Real());
  Informer informer(std::move(source), Clock::Real());
  ASSERT_TRUE(informer
                  .AddIndex("database",
                            [](const json& o) -> std::vector<std::string> {
                              auto labels = o["metadata"].value("labels", json::object());
                              if (!labels.contains("database")) return {};
                              return {labels["database"].get<std::string>()};
                            })
                  .ok());
  Seen seen;
  auto v = [](const ObjectPtr& o) { return (*o)["data"].value("v", ""); };
  EventHandlers h;
  h.on_add = [&](const ObjectPtr& o) { seen.Add("add " + ObjectKey(*o) + " " + v(o)); };
  h.on_update = [&](const ObjectPtr& a, const ObjectPtr& b) {
    seen.Add("update " + ObjectKey(*b) + " " + v(a) + "->" + v(b));
  };
  h.on_delete = [&](const ObjectPtr& o) { seen.Add("delete " + ObjectKey(*o)); };
  ASSERT_TRUE(informer.AddHandlers(h).ok());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(Clock::Real()->Now() + 60s));
  EXPECT_TRUE(seen.WaitFor("add " + ns_ + "/before 1", 1s));  // delivered before sync

  ASSERT_TRUE(client_->Create(gvr::ConfigMap(), ns_, ConfigMap("after", "users", "1")).ok());
  ASSERT_TRUE(seen.WaitFor("add " + ns_ + "/after 1", 60s));
  auto updated =
      client_->Patch(gvr::ConfigMap(), ns_, "before", PatchType::kMerge, {{"data", {{"v", "2"}}}});
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_TRUE(seen.WaitFor("update " + ns_ + "/before 1->2", 60s));
  ASSERT_TRUE(client_->Delete(gvr::ConfigMap(), ns_, "after").ok());
  ASSERT_TRUE(seen.WaitFor("delete " + ns_ + "/after", 60s));

  // The cache answers from memory, by key and by index.
  auto cached = informer.store().Get(ns_, "before");
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ((*cached)["data"]["v"], "2");
  EXPECT_EQ(informer.store().Get(ns_, "after"), nullptr);
  auto orders = informer.store().ByIndex("database", "orders");
  ASSERT_TRUE(orders.ok());
  ASSERT_EQ(orders->size(), 1u);
  // (The namespace also holds the kube-root-ca.crt ConfigMap.)
  std::set<std::string> in_ns;
  for (auto& o : informer.store().ByNamespace(ns_)) in_ns.insert((*o)["metadata"]["name"]);
  EXPECT_TRUE(in_ns.count("before"));
  EXPECT_FALSE(in_ns.count("after"));
  EXPECT_EQ(in_ns.size(), informer.store().Size());
  informer.Stop();
}

TEST_F(KubeRuntimeE2eTest, EventRecorderAggregatesRepeatsIntoASeries) {
  auto cm = client_->Create(gvr::ConfigMap(), ns_, ConfigMap("subject", "orders", "1"));
  ASSERT_TRUE(cm.ok()) << cm.status();
  ClientEventSink sink(client_.get());
  EventRecorderOptions o;
  o.reporting_instance = "e2e-test";
  o.series_flush_interval = 0s;  // patch every repeat, to see it on the server
  {
    EventRecorder recorder(&sink, Clock::Real(), o);
    const ObjectRef ref = ObjectRef::From(*cm);
    for (int i = 0; i < 3; ++i) {
      recorder.Event(ref, EventType::kWarning, "DatabaseLocked", "Lock", "held by m0");
    }
    recorder.Event(ref, EventType::kNormal, "Applied", "Migrate", "2 migrations");
    recorder.Shutdown();
    EXPECT_EQ(recorder.write_failures(), 0u);
    EXPECT_EQ(recorder.dropped(), 0u);
  }
  auto list = client_->List(gvr::Event(), ns_);
  ASSERT_TRUE(list.ok()) << list.status();
  std::map<std::string, json> by_reason;
  for (auto& e : (*list)["items"]) by_reason[e["reason"]] = e;
  ASSERT_EQ(by_reason.size(), 2u) << list->dump(2);
  const json& locked = by_reason["DatabaseLocked"];
  EXPECT_EQ(locked["type"], "Warning");
  EXPECT_EQ(locked["series"]["count"], 3) << locked.dump(2);
  EXPECT_EQ(locked["regarding"]["name"], "subject");
  EXPECT_EQ(locked["regarding"]["uid"], (*cm)["metadata"]["uid"]);
  EXPECT_FALSE(by_reason["Applied"].contains("series"));
}

TEST_F(KubeRuntimeE2eTest, LeaseClaimsAsNamedPerDatabaseLocks) {
  LeaseTimings t;  // 15 s / 10 s / 2 s
  auto claim = [&](const std::string& db, const std::string& id) {
    auto c =
        LeaseClaim::New(std::make_unique<KubeLeaseLock>(&client_->transport(), ns_, "db-" + db), id,
                        t, Clock::Real());
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(c).value();
  };
  auto a_orders = claim("orders", "controller-a");
  auto b_orders = claim("orders", "controller-b");
  auto b_users = claim("users", "controller-b");

  auto r = a_orders->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok() && *r) << r.status();
  // Created free, then taken over: the token is the created resourceVersion
  // + 1, never 0 (0 means "no fencing" to the runner).
  const int64_t a_token = a_orders->FencingToken().value_or(0);
  EXPECT_GE(a_token, 2);
  r = b_orders->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_EQ(b_orders->ObservedHolder(), "controller-a");
  r = b_users->TryAcquireOrRenew();  // another database: independent
  ASSERT_TRUE(r.ok() && *r) << r.status();

  r = a_orders->TryAcquireOrRenew();  // renew (optimistic update)
  ASSERT_TRUE(r.ok() && *r) << r.status();
  EXPECT_EQ(a_orders->FencingToken(), a_token);  // renewals keep it
  ASSERT_TRUE(a_orders->Release().ok());
  r = b_orders->TryAcquireOrRenew();  // free at once after the release
  ASSERT_TRUE(r.ok() && *r) << r.status();
  const int64_t b_token = b_orders->FencingToken().value_or(0);
  EXPECT_GT(b_token, a_token);

  // The server enforces the optimistic concurrency the claims rely on.
  KubeLeaseLock raw(&client_->transport(), ns_, "db-orders");
  auto current = raw.Get(5s);
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(current->record.fencing_token, b_token);  // the annotation, as stored
  LeaseRecord stolen = current->record;
  stolen.holder_identity = "intruder";
  ASSERT_TRUE(raw.Update(current->resource_version, stolen, 5s).ok());
  auto stale = raw.Update(current->resource_version, current->record, 5s);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Code::kConflict) << stale.status();

  // b's next renew hits the conflict, re-reads, and sees it lost the lock.
  r = b_orders->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_FALSE(b_orders->Held());
  EXPECT_EQ(b_orders->ObservedHolder(), "intruder");
}

}  // namespace
}  // namespace sg::kube
