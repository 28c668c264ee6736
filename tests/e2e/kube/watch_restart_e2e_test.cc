// End-to-end: the Watcher and the Informer across a real kube-apiserver
// restart and a real etcd compaction, on a cluster each test owns
// (tests/support/own_cluster.h: etcd + kube-apiserver from scripts/cluster.sh
// in a temporary CLUSTER_RUN), so the shared cluster is never disturbed.
//
// The API server runs with --watch-cache=false: watches are then served from
// etcd directly, so a watch from an old resourceVersion either resumes
// exactly there or fails with 410 once etcd compacted it. (With the watch
// cache, a restarted v1.34 API server answers a watch from before its
// cache's first list with 410 as soon as etcd moved on — checked by running
// the first test with the cache on: 410, re-list — and it hides etcd
// compaction behind the cache.)
//
// In both tests a Watcher is driven one Step() at a time by the test (its
// backoff on a FakeClock), so the test decides that it reconnects only after
// the changes made behind its back; an Informer (real threads and clock)
// runs beside it and must keep going by itself.
//
//  - Restart: kube-apiserver is SIGKILLed (or stopped with SIGTERM), etcd's
//    revision moves on, the
//    API server is started again and an object is created, one changed and
//    one deleted. The watcher must resume from its resourceVersion: exactly
//    those three changes, in order, no list, nothing seen before delivered
//    again. The informer: each add/update/delete once, no re-list, cache
//    equal to a fresh list.
//  - Compaction: while the API server is down, etcd's revision is moved past
//    the watchers' resourceVersion and compacted. The watcher must get 410
//    Gone, replay nothing, and deliver the gap's changes as the re-list's
//    complete set, equal to a fresh list; the informer must report the 410
//    and end equal to a fresh list, each change delivered once.
//
// Waits are polls or condition variables with deadlines; nothing is timed.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/informer/informer.h"
#include "kube/watch/watcher.h"
#include "support/own_cluster.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using ::sg::testing::OwnCluster;
using ::sg::testing::OwnClusterOptions;
using Versions = std::map<std::string, std::string>;  // name -> resourceVersion

constexpr const char* kLabel = "e2e=restart";

std::string Name(const Json& o) { return o["metadata"].value("name", ""); }
std::string Rv(const Json& o) { return o["metadata"].value("resourceVersion", ""); }

// Polls `pred` every 100 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& pred, std::chrono::seconds timeout = 90s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);  // poll interval
  }
  return true;
}

// What an Informer's handlers saw, one line per call.
struct HandlerLog {
  std::mutex mu;
  std::vector<std::string> lines;  // "add a 12", "update a 12 15", "delete c"
  std::vector<Code> errors;
  void Add(std::string s) {
    std::lock_guard<std::mutex> l(mu);
    lines.push_back(std::move(s));
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> l(mu);
    return lines;
  }
  std::vector<Code> Errors() {
    std::lock_guard<std::mutex> l(mu);
    return errors;
  }
  EventHandlers Handlers() {
    EventHandlers h;
    h.on_add = [this](const ObjectPtr& o) { Add("add " + Name(*o) + " " + Rv(*o)); };
    h.on_update = [this](const ObjectPtr& a, const ObjectPtr& b) {
      Add("update " + Name(*b) + " " + Rv(*a) + " " + Rv(*b));
    };
    h.on_delete = [this](const ObjectPtr& o) { Add("delete " + Name(*o)); };
    return h;
  }
};

class WatchRestartE2eTest : public ::testing::Test {
 protected:
  // Each test owns a cluster; `first_port` keeps concurrent tests apart.
  void StartCluster(int first_port) {
    OwnClusterOptions o;
    // A graceful shutdown (SIGTERM) ends open watches within 5 s instead of
    // waiting 60 s for them.
    o.apiserver_args = "--watch-cache=false --shutdown-watch-termination-grace-period=5s";
    o.first_port = first_port;
    auto c = OwnCluster::Start(o);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(c).value();
    LoadOptions lo;
    lo.kubeconfig = cluster_->kubeconfig();
    auto rc = LoadRestConfig(lo);
    ASSERT_TRUE(rc.ok()) << rc.status();
    auto client = NewClient(*rc);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
    auto ns = client_->Create(gvr::Namespace(), "", {{"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(ns.ok()) << ns.status();
  }

  void TearDown() override {
    if (informer_) informer_->Stop();
    informer_.reset();
    client_.reset();
    cluster_.reset();  // cluster.sh down for its own run directory, by PID
  }

  Json ConfigMap(const std::string& name, const std::string& value) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", {{"e2e", "restart"}}}}},
            {"data", {{"v", value}}}};
  }
  // Returns the new resourceVersion ("" on failure, reported).
  std::string Create(const std::string& name) {
    auto r = client_->Create(gvr::ConfigMap(), ns_, ConfigMap(name, "1"));
    EXPECT_TRUE(r.ok()) << "create " << name << ": " << r.status();
    return r.ok() ? Rv(*r) : "";
  }
  std::string Change(const std::string& name, const std::string& value) {
    auto r =
        client_->Patch(gvr::ConfigMap(), ns_, name, PatchType::kMerge, {{"data", {{"v", value}}}});
    EXPECT_TRUE(r.ok()) << "patch " << name << ": " << r.status();
    return r.ok() ? Rv(*r) : "";
  }
  void Remove(const std::string& name) {
    Status s = client_->Delete(gvr::ConfigMap(), ns_, name);
    EXPECT_TRUE(s.ok()) << "delete " << name << ": " << s;
  }
  Versions FreshList() {
    ListOptions o;
    o.label_selector = kLabel;
    auto all = ListAll(*client_, gvr::ConfigMap(), ns_, o);
    EXPECT_TRUE(all.ok()) << all.status();
    Versions v;
    if (all.ok()) {
      for (const auto& o : (*all)["items"]) v[Name(o)] = Rv(o);
    }
    return v;
  }
  Versions Cached() {
    Versions v;
    for (const auto& o : informer_->store().List()) v[Name(*o)] = Rv(*o);
    return v;
  }
  WatcherOptions Options() {
    WatcherOptions o;
    o.label_selector = kLabel;
    // Reconnect within a few seconds of the API server's return; the
    // default 30 s cap only makes the test slower.
    o.max_backoff = 4s;
    return o;
  }
  void StartInformer(HandlerLog* log) {
    InformerOptions io;
    io.on_error = [log](const Status& s) {
      std::lock_guard<std::mutex> l(log->mu);
      log->errors.push_back(s.code());
    };
    informer_ = std::make_unique<Informer>(
        std::make_unique<WatcherSource>(
            std::make_unique<ClientListerWatcher>(client_.get(), gvr::ConfigMap(), ns_),
            Clock::Real(), Options()),
        Clock::Real(), io);
    ASSERT_TRUE(informer_->AddHandlers(log->Handlers()).ok());
    informer_->Start();
    ASSERT_TRUE(informer_->WaitForSync(Clock::Real()->Now() + 60s));
  }

  const std::string ns_ = "watch-restart";
  std::unique_ptr<OwnCluster> cluster_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Informer> informer_;
};

// A Watcher driven one Step() at a time by the test, so the test decides
// when it reconnects; its backoff runs on a FakeClock that the driver
// advances by the wait each step asks for.
class SteppedWatcher {
 public:
  SteppedWatcher(Client* client, const std::string& ns, WatcherOptions o)
      : lw_(client, gvr::ConfigMap(), ns), watcher_(&lw_, &clock_, std::move(o)) {}

  struct Result {
    std::vector<WatcherEvent> events;
    std::vector<Status> errors;
    bool done = false;  // `until` held before the deadline
  };
  // Steps until `until(events so far)` holds or `timeout` passes (a watchdog
  // cancels a Step blocked in a watch that brings nothing).
  Result StepUntil(const std::function<bool(const std::vector<WatcherEvent>&)>& until,
                   std::chrono::seconds timeout = 60s) {
    Result r;
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    std::thread watchdog([&] {
      std::unique_lock<std::mutex> l(mu);
      if (!cv.wait_for(l, timeout, [&] { return finished; })) watcher_.Cancel();
    });
    while (!until(r.events) && !watcher_.cancelled()) {
      auto step = watcher_.Step();
      if (!step.error.ok()) r.errors.push_back(step.error);
      if (step.wait.count() > 0) clock_.Advance(step.wait);
      if (step.event) r.events.push_back(std::move(*step.event));
    }
    r.done = until(r.events);
    {
      std::lock_guard<std::mutex> l(mu);
      finished = true;
    }
    cv.notify_all();
    watchdog.join();
    return r;
  }
  Watcher& watcher() { return watcher_; }

 private:
  FakeClock clock_;
  ClientListerWatcher lw_;
  Watcher watcher_;
};

auto CountAtLeast(size_t n) {
  return [n](const std::vector<WatcherEvent>& es) { return es.size() >= n; };
}

std::string ErrorsText(const std::vector<Status>& errors) {
  std::string out;
  for (const auto& s : errors) out += "\n  " + s.ToString();
  return out;
}

// The restart comes as a crash (SIGKILL: connections reset) or a graceful
// shutdown (SIGTERM: the server ends its watch streams first).
class WatchResumeE2eTest : public WatchRestartE2eTest, public ::testing::WithParamInterface<int> {};

TEST_P(WatchResumeE2eTest, ResumesFromItsResourceVersionAcrossAnApiServerRestart) {
  const int sig = GetParam();
  ASSERT_NO_FATAL_FAILURE(StartCluster(sig == SIGKILL ? 24790 : 25090));
  std::string rv_a1 = Create("a");
  std::string rv_b1 = Create("b");
  std::string rv_c1 = Create("c");

  SteppedWatcher stepped(client_.get(), ns_, Options());
  auto listed = stepped.StepUntil(CountAtLeast(1));
  ASSERT_TRUE(listed.done) << ErrorsText(listed.errors);
  ASSERT_EQ(listed.events[0].type, WatcherEvent::Type::kRestarted);
  Versions initial;
  for (const auto& o : listed.events[0].objects) initial[Name(o)] = Rv(o);
  EXPECT_EQ(initial, Versions({{"a", rv_a1}, {"b", rv_b1}, {"c", rv_c1}}));
  HandlerLog handlers;
  ASSERT_NO_FATAL_FAILURE(StartInformer(&handlers));

  std::string rv_a2 = Change("a", "2");
  auto seen = stepped.StepUntil(CountAtLeast(1));  // opens the watch, gets the change
  ASSERT_TRUE(seen.done) << ErrorsText(seen.errors);
  ASSERT_EQ(Rv(seen.events[0].object), rv_a2);
  ASSERT_TRUE(Eventually([&] { return Cached()["a"] == rv_a2; }));

  // While the API server is down etcd moves on (a key outside /registry),
  // so the watchers' resourceVersion is no longer the store's latest.
  auto t_kill = std::chrono::steady_clock::now();
  Status killed = cluster_->Kill("kube-apiserver", sig);
  ASSERT_TRUE(killed.ok()) << killed;
  auto t_gone = std::chrono::steady_clock::now();
  auto moved = cluster_->EtcdPut("/sg-e2e/filler", "1");
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_GT(*moved, std::stoll(rv_a2));
  Status up = cluster_->Up();
  ASSERT_TRUE(up.ok()) << up;
  auto t_ready = std::chrono::steady_clock::now();

  // Changes while the stepped watcher is still disconnected (it has not
  // stepped since the kill) and while the informer reconnects by itself.
  std::string rv_d = Create("d");
  std::string rv_b2 = Change("b", "2");
  Remove("c");
  Versions fresh = FreshList();
  EXPECT_EQ(fresh, Versions({{"a", rv_a2}, {"b", rv_b2}, {"d", rv_d}}));

  // The stepped watcher: broken stream -> backoff -> watch from rv_a2 ->
  // exactly the three changes, in order; no list, nothing seen before.
  auto resumed = stepped.StepUntil(CountAtLeast(3));
  ASSERT_TRUE(resumed.done) << "got " << resumed.events.size()
                            << " events; errors:" << ErrorsText(resumed.errors);
  ASSERT_EQ(resumed.events.size(), 3u);
  for (const auto& e : resumed.events) {
    EXPECT_NE(e.type, WatcherEvent::Type::kRestarted) << "re-listed instead of resuming";
  }
  EXPECT_EQ(resumed.events[0].type, WatcherEvent::Type::kApplied);
  EXPECT_EQ(Name(resumed.events[0].object), "d");
  EXPECT_EQ(Rv(resumed.events[0].object), rv_d);
  EXPECT_EQ(resumed.events[1].type, WatcherEvent::Type::kApplied);
  EXPECT_EQ(Name(resumed.events[1].object), "b");
  EXPECT_EQ(Rv(resumed.events[1].object), rv_b2);
  EXPECT_EQ(resumed.events[2].type, WatcherEvent::Type::kDeleted);
  EXPECT_EQ(Name(resumed.events[2].object), "c");
  for (const auto& s : resumed.errors) EXPECT_NE(s.code(), Code::kGone) << s;

  // The informer kept running: its cache equals a fresh list, every object
  // was added once and every change delivered once, with no re-list (which
  // would re-deliver every object as an update with old == new).
  ASSERT_TRUE(Eventually([&] { return Cached() == fresh; }))
      << "informer cache differs from a fresh list";
  auto t_synced = std::chrono::steady_clock::now();
  EXPECT_EQ(handlers.Lines(), std::vector<std::string>({
                                  "add a " + rv_a1,
                                  "add b " + rv_b1,
                                  "add c " + rv_c1,
                                  "update a " + rv_a1 + " " + rv_a2,
                                  "add d " + rv_d,
                                  "update b " + rv_b1 + " " + rv_b2,
                                  "delete c",
                              }));
  auto informer_errors = handlers.Errors();
  if (sig == SIGKILL) {  // a graceful end of stream is not an error
    EXPECT_FALSE(informer_errors.empty()) << "the informer did not notice the crash";
  }
  for (Code c : informer_errors) EXPECT_NE(c, Code::kGone);

  auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  std::printf(
      "restart (%s): API server exited %lld ms after the signal, ready %lld ms after it; "
      "informer equal to a fresh list %lld ms after ready (%zu reconnect failures)\n",
      sig == SIGKILL ? "SIGKILL" : "SIGTERM", ms(t_gone - t_kill), ms(t_ready - t_kill),
      ms(t_synced - t_ready), informer_errors.size());
}

INSTANTIATE_TEST_SUITE_P(CrashOrShutdown, WatchResumeE2eTest, ::testing::Values(SIGKILL, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGKILL ? "Sigkill" : "Sigterm");
                         });

TEST_F(WatchRestartE2eTest, RelistsAfter410WhenEtcdCompactedPastItsResourceVersion) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(24890));
  std::string rv_a1 = Create("a");
  std::string rv_b1 = Create("b");
  Create("c");

  SteppedWatcher stepped(client_.get(), ns_, Options());
  auto listed = stepped.StepUntil(CountAtLeast(1));
  ASSERT_TRUE(listed.done) << ErrorsText(listed.errors);
  ASSERT_EQ(listed.events[0].objects.size(), 3u);
  HandlerLog handlers;
  ASSERT_NO_FATAL_FAILURE(StartInformer(&handlers));

  std::string rv_a2 = Change("a", "2");
  auto seen = stepped.StepUntil(CountAtLeast(1));
  ASSERT_TRUE(seen.done) << ErrorsText(seen.errors);
  ASSERT_EQ(Rv(seen.events[0].object), rv_a2);
  ASSERT_EQ(stepped.watcher().resource_version(), rv_a2);
  ASSERT_TRUE(Eventually([&] { return Cached()["a"] == rv_a2; }));

  // API server down; etcd moves on (keys outside /registry) and is compacted
  // past every resourceVersion the watchers hold.
  auto t_kill = std::chrono::steady_clock::now();
  ASSERT_TRUE(cluster_->Kill("kube-apiserver", SIGKILL).ok());
  ASSERT_TRUE(cluster_->EtcdPut("/sg-e2e/filler", "1").ok());
  auto rev = cluster_->EtcdPut("/sg-e2e/filler", "2");
  ASSERT_TRUE(rev.ok()) << rev.status();
  ASSERT_GT(*rev, std::stoll(rv_a2) + 1);
  Status compacted = cluster_->EtcdCompact(*rev);
  ASSERT_TRUE(compacted.ok()) << compacted;
  Status up = cluster_->Up();
  ASSERT_TRUE(up.ok()) << up;
  auto t_ready = std::chrono::steady_clock::now();

  // Changes in the gap, before the stepped watcher reconnects.
  std::string rv_d = Create("d");
  std::string rv_b2 = Change("b", "2");
  Remove("c");
  Versions fresh = FreshList();
  ASSERT_EQ(fresh, Versions({{"a", rv_a2}, {"b", rv_b2}, {"d", rv_d}}));

  // Reconnect: broken stream -> backoff -> watch from rv_a2 -> 410 -> list.
  auto relisted = stepped.StepUntil(CountAtLeast(1));
  ASSERT_TRUE(relisted.done) << "the watcher did not re-list; errors:"
                             << ErrorsText(relisted.errors);
  ASSERT_EQ(relisted.events[0].type, WatcherEvent::Type::kRestarted)
      << "an event from before the compaction was replayed: " << relisted.events[0].object.dump();
  bool gone = false;
  for (const auto& s : relisted.errors) {
    if (s.code() != Code::kGone) continue;
    if (!gone) std::printf("compaction: the watcher got %s\n", s.ToString().c_str());
    gone = true;
  }
  EXPECT_TRUE(gone) << "no 410 Gone seen; errors:" << ErrorsText(relisted.errors);
  Versions listed_now;
  for (const auto& o : relisted.events[0].objects) listed_now[Name(o)] = Rv(o);
  EXPECT_EQ(listed_now, fresh) << "the re-list is not the current state";
  EXPECT_EQ(stepped.watcher().state(), Watcher::State::kListed);

  // The informer re-lists by itself and ends equal to a fresh list; its
  // handlers see the gap's changes as the re-list's diff (or, had it
  // re-listed before the changes, as watch events) — each once.
  ASSERT_TRUE(Eventually([&] { return Cached() == fresh; }))
      << "informer cache differs from a fresh list";
  auto t_synced = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] {
    for (Code c : handlers.Errors()) {
      if (c == Code::kGone) return true;
    }
    return false;
  })) << "the informer did not report 410 Gone";
  auto lines = handlers.Lines();
  auto count = [&](const std::string& prefix) {
    int n = 0;
    for (const auto& l : lines) n += l.rfind(prefix, 0) == 0;
    return n;
  };
  EXPECT_EQ(count("add a "), 1);
  EXPECT_EQ(count("add b "), 1);
  EXPECT_EQ(count("add d "), 1);
  EXPECT_EQ(count("delete c"), 1);
  EXPECT_EQ(count("update b " + rv_b1 + " " + rv_b2), 1);
  EXPECT_EQ(count("update a " + rv_a1 + " " + rv_a2), 1);

  auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  std::printf(
      "compaction: API server ready %lld ms after SIGKILL (etcd compacted at revision %lld while "
      "down); informer re-listed and equal to a fresh list %lld ms after ready\n",
      ms(t_ready - t_kill), static_cast<long long>(*rev), ms(t_synced - t_ready));
}

}  // namespace
}  // namespace sg::kube
