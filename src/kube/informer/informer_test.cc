#include "kube/informer/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json Obj(const std::string& name, const std::string& rv, const std::string& db = "orders") {
  return {{"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", rv}}},
          {"spec", {{"database", db}}}};
}

WatcherEvent Restarted(std::vector<json> objects) {
  WatcherEvent e;
  e.type = WatcherEvent::Type::kRestarted;
  e.objects = std::move(objects);
  return e;
}

WatcherEvent Applied(json o) {
  WatcherEvent e;
  e.type = WatcherEvent::Type::kApplied;
  e.object = std::move(o);
  return e;
}

WatcherEvent Deleted(json o) {
  WatcherEvent e;
  e.type = WatcherEvent::Type::kDeleted;
  e.object = std::move(o);
  return e;
}

// Delivers events the test pushes, in order, until cancelled.
class ScriptedSource final : public WatchSource {
 public:
  void Push(WatcherEvent e) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(std::move(e));
    cv_.notify_all();
  }
  void PushError(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    errors_.push_back(std::move(s));
    cv_.notify_all();
  }
  Status Run(const EventFn& on_event, const ErrorFn& on_error) override {
    std::unique_lock<std::mutex> lock(mu_);
    run_thread_ = std::this_thread::get_id();
    for (;;) {
      cv_.wait(lock, [&] { return cancelled_ || !events_.empty() || !errors_.empty(); });
      if (cancelled_) return CancelledError("cancelled");
      if (!errors_.empty()) {
        Status s = errors_.front();
        errors_.pop_front();
        lock.unlock();
        on_error(s);
        lock.lock();
        continue;
      }
      WatcherEvent e = std::move(events_.front());
      events_.pop_front();
      lock.unlock();
      on_event(e);
      lock.lock();
    }
  }
  void Cancel() override {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  std::thread::id run_thread() {
    std::lock_guard<std::mutex> l(mu_);
    return run_thread_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatcherEvent> events_;
  std::deque<Status> errors_;
  bool cancelled_ = false;
  std::thread::id run_thread_;
};

// What the handlers saw, as "add:ns/a@1", "update:ns/a@1->2", "delete:ns/a@2".
struct Log {
  std::mutex mu;
  std::vector<std::string> lines;
  std::set<std::thread::id> threads;
  void Add(std::string s) {
    std::lock_guard<std::mutex> l(mu);
    lines.push_back(std::move(s));
    threads.insert(std::this_thread::get_id());
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> l(mu);
    return lines;
  }
  size_t Size() {
    std::lock_guard<std::mutex> l(mu);
    return lines.size();
  }
};

std::string Rv(const ObjectPtr& o) { return (*o)["metadata"]["resourceVersion"]; }

EventHandlers Logging(Log* log) {
  EventHandlers h;
  h.on_add = [log](const ObjectPtr& o) { log->Add("add:" + ObjectKey(*o) + "@" + Rv(o)); };
  h.on_update = [log](const ObjectPtr& a, const ObjectPtr& b) {
    log->Add("update:" + ObjectKey(*b) + "@" + Rv(a) + "->" + Rv(b));
  };
  h.on_delete = [log](const ObjectPtr& o) { log->Add("delete:" + ObjectKey(*o) + "@" + Rv(o)); };
  return h;
}

bool Eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 10000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto src = std::make_unique<ScriptedSource>();
    source_ = src.get();
    InformerOptions options;
    options.resync_period = resync_;
    options.on_error = [this](const Status& s) { errors_.Add(s.ToString()); };
    informer_ = std::make_unique<Informer>(std::move(src), &clock_, options);
    ASSERT_TRUE(informer_
                    ->AddIndex("database",
                               [](const json& o) -> std::vector<std::string> {
                                 return {o["spec"]["database"].get<std::string>()};
                               })
                    .ok());
    ASSERT_TRUE(informer_->AddHandlers(Logging(&log_)).ok());
  }

  FakeClock clock_;
  Clock::Duration resync_{0};
  ScriptedSource* source_ = nullptr;
  std::unique_ptr<Informer> informer_;
  Log log_;
  Log errors_;
};

TEST_F(InformerTest, SyncsAfterInitialListIsDeliveredThenFollowsEvents) {
  informer_->Start();
  EXPECT_FALSE(informer_->HasSynced());
  source_->Push(Restarted({Obj("a", "1"), Obj("b", "1")}));
  ASSERT_TRUE(informer_->WaitForSync(Clock::TimePoint::max()));
  // Synced means the initial adds were delivered, not just stored.
  EXPECT_EQ(log_.Get(), (std::vector<std::string>{"add:ns/a@1", "add:ns/b@1"}));
  EXPECT_EQ(informer_->store().Size(), 2u);

  source_->Push(Applied(Obj("a", "2")));
  source_->Push(Applied(Obj("c", "3", "users")));
  source_->Push(Deleted(Obj("b", "4")));
  ASSERT_TRUE(Eventually([&] { return log_.Size() == 5; }));
  EXPECT_EQ(log_.Get(), (std::vector<std::string>{"add:ns/a@1", "add:ns/b@1", "update:ns/a@1->2",
                                                  "add:ns/c@3", "delete:ns/b@4"}));
  EXPECT_EQ(informer_->store().Keys(), (std::vector<std::string>{"ns/a", "ns/c"}));
  auto orders = informer_->store().ByIndex("database", "orders");
  ASSERT_TRUE(orders.ok());
  ASSERT_EQ(orders->size(), 1u);
  EXPECT_EQ(ObjectKey(*orders->front()), "ns/a");
}

TEST_F(InformerTest, RelistReplacesContentsAndReportsVanishedObjects) {
  informer_->Start();
  source_->Push(Restarted({Obj("a", "1"), Obj("gone", "1")}));
  ASSERT_TRUE(informer_->WaitForSync(Clock::TimePoint::max()));
  // After a 410 the watcher re-lists: "gone" was deleted while we were not
  // watching, "new" appeared, "a" changed.
  source_->Push(Restarted({Obj("a", "7"), Obj("new", "8")}));
  ASSERT_TRUE(Eventually([&] { return log_.Size() == 5; }));
  auto lines = log_.Get();
  EXPECT_EQ(std::vector<std::string>(lines.begin() + 2, lines.end()),
            (std::vector<std::string>{"delete:ns/gone@1", "add:ns/new@8", "update:ns/a@1->7"}));
  EXPECT_EQ(informer_->store().Keys(), (std::vector<std::string>{"ns/a", "ns/new"}));
}

TEST_F(InformerTest, HandlersRunOnOneInformerThread) {
  informer_->Start();
  source_->Push(Restarted({Obj("a", "1")}));
  for (int i = 2; i < 50; ++i) source_->Push(Applied(Obj("a", std::to_string(i))));
  ASSERT_TRUE(Eventually([&] { return log_.Size() == 49; }));
  std::lock_guard<std::mutex> l(log_.mu);
  ASSERT_EQ(log_.threads.size(), 1u);
  EXPECT_NE(*log_.threads.begin(), std::this_thread::get_id());
  EXPECT_NE(*log_.threads.begin(), source_->run_thread());  // not the writer's thread
}

TEST_F(InformerTest, StoreIsAtLeastAsNewAsWhatHandlersSee) {
  std::atomic<bool> stale{false};
  EventHandlers check;
  check.on_update = [&](const ObjectPtr&, const ObjectPtr& now) {
    auto cached = informer_->store().Get(ObjectKey(*now));
    if (!cached || std::stoi(Rv(cached)) < std::stoi(Rv(now))) stale = true;
  };
  // Re-create with the extra handler (handlers go in before Start).
  SetUp();
  ASSERT_TRUE(informer_->AddHandlers(check).ok());
  informer_->Start();
  source_->Push(Restarted({Obj("a", "1")}));
  for (int i = 2; i < 200; ++i) source_->Push(Applied(Obj("a", std::to_string(i))));
  ASSERT_TRUE(Eventually([&] { return log_.Size() == 199; }));
  EXPECT_FALSE(stale.load());
}

TEST_F(InformerTest, LastProgressIsTheStartOfAHandlerCallStillRunning) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> entered{false};
  EventHandlers slow;
  slow.on_add = [&](const ObjectPtr& o) {
    if (ObjectKey(*o) != "ns/slow") return;
    entered = true;
    released.wait();
  };
  SetUp();
  ASSERT_TRUE(informer_->AddHandlers(slow).ok());
  informer_->Start();
  // The scripted source does not report its steps and no handler runs.
  EXPECT_FALSE(informer_->LastProgress().has_value());
  source_->Push(Restarted({}));
  ASSERT_TRUE(informer_->WaitForSync(Clock::TimePoint::max()));
  const auto delivered_at = clock_.Now();
  source_->Push(Applied(Obj("slow", "2")));
  ASSERT_TRUE(Eventually([&] { return entered.load(); }));
  clock_.Advance(20min);
  ASSERT_TRUE(informer_->LastProgress().has_value());
  EXPECT_EQ(*informer_->LastProgress(), delivered_at);  // stuck since then
  release.set_value();
  EXPECT_TRUE(Eventually([&] { return !informer_->LastProgress().has_value(); }));
}

TEST_F(InformerTest, WaitForSyncGivesUpAtDeadline) {
  informer_->Start();
  const auto deadline = clock_.Now() + 30s;
  bool result = true;
  std::thread waiter([&] { result = informer_->WaitForSync(deadline); });
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  clock_.Advance(30s);
  waiter.join();
  EXPECT_FALSE(result);
  EXPECT_FALSE(informer_->HasSynced());
}

TEST_F(InformerTest, SourceErrorsAreReported) {
  informer_->Start();
  source_->PushError(UnavailableError("connection refused"));
  ASSERT_TRUE(Eventually([&] { return errors_.Size() == 1; }));
  EXPECT_NE(errors_.Get()[0].find("connection refused"), std::string::npos);
}

TEST_F(InformerTest, AddHandlersAfterStartIsRejected) {
  informer_->Start();
  EXPECT_EQ(informer_->AddHandlers({}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(informer_->AddIndex("x", nullptr).code(), Code::kFailedPrecondition);
}

TEST_F(InformerTest, StopJoinsAndDeliversNothingMore) {
  informer_->Start();
  source_->Push(Restarted({Obj("a", "1")}));
  ASSERT_TRUE(informer_->WaitForSync(Clock::TimePoint::max()));
  informer_->Stop();
  const size_t seen = log_.Size();
  source_->Push(Applied(Obj("a", "2")));
  EXPECT_EQ(log_.Size(), seen);
}

class ResyncInformerTest : public InformerTest {
 protected:
  ResyncInformerTest() { resync_ = 30s; }
};

TEST_F(ResyncInformerTest, ResyncRedeliversEveryCachedObjectPeriodically) {
  informer_->Start();
  source_->Push(Restarted({Obj("a", "1"), Obj("b", "1")}));
  ASSERT_TRUE(informer_->WaitForSync(Clock::TimePoint::max()));
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));  // parked on resync
  clock_.Advance(29s);
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  EXPECT_EQ(log_.Size(), 2u);
  clock_.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return log_.Size() == 4; }));
  auto lines = log_.Get();
  EXPECT_EQ(std::vector<std::string>(lines.begin() + 2, lines.end()),
            (std::vector<std::string>{"update:ns/a@1->1", "update:ns/b@1->1"}));
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  clock_.Advance(30s);
  ASSERT_TRUE(Eventually([&] { return log_.Size() == 6; }));
}

}  // namespace
}  // namespace sg::kube
