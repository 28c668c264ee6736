#include "kube/events/event_recorder.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube/lease/lease_record.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

bool Eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 10000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// Stores events in memory like the API server would (by namespace/name).
class FakeSink final : public EventSink {
 public:
  StatusOr<std::string> Create(const std::string& ns, const json& event) override {
    std::unique_lock<std::mutex> l(mu_);
    ++waiting_;
    cv_.wait(l, [&] { return !blocked_; });
    --waiting_;
    ++creates_;
    if (!fail_.ok()) return std::exchange(fail_, OkStatus());
    std::string name = event["metadata"]["name"];
    if (events_.count(ns + "/" + name)) return AlreadyExistsError(name);
    events_[ns + "/" + name] = event;
    order_.push_back(ns + "/" + name);
    return name;
  }
  Status PatchSeries(const std::string& ns, const std::string& name, const json& patch) override {
    std::lock_guard<std::mutex> l(mu_);
    ++patches_;
    auto it = events_.find(ns + "/" + name);
    if (it == events_.end()) return NotFoundError("events \"" + name + "\" not found");
    it->second.merge_patch(patch);
    return OkStatus();
  }
  void Block(bool b) {
    std::lock_guard<std::mutex> l(mu_);
    blocked_ = b;
    cv_.notify_all();
  }
  void FailNextCreate(Status s) {
    std::lock_guard<std::mutex> l(mu_);
    fail_ = std::move(s);
  }
  void DeleteAll() {
    std::lock_guard<std::mutex> l(mu_);
    events_.clear();
  }
  int waiting() {
    std::lock_guard<std::mutex> l(mu_);
    return waiting_;
  }
  int creates() {
    std::lock_guard<std::mutex> l(mu_);
    return creates_;
  }
  int patches() {
    std::lock_guard<std::mutex> l(mu_);
    return patches_;
  }
  std::vector<json> Events() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<json> out;
    for (auto& k : order_) {
      if (events_.count(k)) out.push_back(events_[k]);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  int waiting_ = 0;
  Status fail_;
  int creates_ = 0;
  int patches_ = 0;
  std::map<std::string, json> events_;
  std::vector<std::string> order_;
};

ObjectRef Migration(const std::string& name) {
  return ObjectRef::From(
      {{"apiVersion", "schemagate.dev/v1alpha1"},
       {"kind", "SchemaMigration"},
       {"metadata", {{"namespace", "shop"}, {"name", name}, {"uid", "u-" + name}}}});
}

class EventRecorderTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventRecorder> Recorder(EventRecorderOptions o = {}) {
    o.reporting_instance = "controller-0";
    return std::make_unique<EventRecorder>(&sink_, &clock_, o);
  }
  FakeClock clock_;
  FakeSink sink_;
};

TEST_F(EventRecorderTest, FirstOccurrenceCreatesAWellFormedEvent) {
  auto r = Recorder();
  r->Event(Migration("m1"), EventType::kWarning, "MigrationFailed", "Migrate", "syntax error");
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 1; }));
  auto e = sink_.Events().at(0);
  EXPECT_EQ(e["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(e["metadata"]["namespace"], "shop");
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("m1.", 0), 0u);
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "MigrationFailed");
  EXPECT_EQ(e["action"], "Migrate");
  EXPECT_EQ(e["note"], "syntax error");
  EXPECT_EQ(e["reportingController"], "schemagate.dev/controller");
  EXPECT_EQ(e["reportingInstance"], "controller-0");
  EXPECT_EQ(e["eventTime"], FormatMicroTime(clock_.WallNow()));
  EXPECT_EQ(e["regarding"], json({{"apiVersion", "schemagate.dev/v1alpha1"},
                                  {"kind", "SchemaMigration"},
                                  {"namespace", "shop"},
                                  {"name", "m1"},
                                  {"uid", "u-m1"}}));
  EXPECT_FALSE(e.contains("series"));
}

TEST_F(EventRecorderTest, RepeatsBecomeASeriesPatchedAtMostOncePerInterval) {
  auto r = Recorder();
  auto same = [&] {
    r->Event(Migration("m1"), EventType::kNormal, "Waiting", "Lock", "database locked by m0");
  };
  same();
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 1; }));
  clock_.Advance(31s);
  same();  // last write 31 s ago: patched at once
  ASSERT_TRUE(Eventually([&] { return sink_.patches() == 1; }));
  EXPECT_EQ(sink_.Events()[0]["series"]["count"], 2);
  clock_.Advance(1s);
  same();
  same();  // folded: the last patch was 1 s ago
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  EXPECT_EQ(sink_.patches(), 1);
  clock_.Advance(29s);  // 30 s after the last patch: the pending count goes out
  ASSERT_TRUE(Eventually([&] { return sink_.patches() == 2; }));
  auto e = sink_.Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["series"]["count"], 4);
  EXPECT_EQ(sink_.creates(), 1);
}

TEST_F(EventRecorderTest, DifferentReasonNoteOrObjectAreSeparateEvents) {
  auto r = Recorder();
  r->Event(Migration("m1"), EventType::kNormal, "Applied", "Migrate", "3 migrations");
  r->Event(Migration("m1"), EventType::kNormal, "Applied", "Migrate", "4 migrations");
  r->Event(Migration("m1"), EventType::kNormal, "Planned", "Migrate", "3 migrations");
  r->Event(Migration("m2"), EventType::kNormal, "Applied", "Migrate", "3 migrations");
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 4; }));
  EXPECT_EQ(sink_.patches(), 0);
}

TEST_F(EventRecorderTest, RepeatAfterTheWindowStartsANewEvent) {
  auto r = Recorder();
  r->Event(Migration("m1"), EventType::kNormal, "Applied", "Migrate", "done");
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 1; }));
  clock_.Advance(10min + 1s);
  r->Event(Migration("m1"), EventType::kNormal, "Applied", "Migrate", "done");
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 2; }));
  EXPECT_EQ(sink_.patches(), 0);
}

TEST_F(EventRecorderTest, ExpiredEventIsRecreated) {
  auto r = Recorder();
  r->Event(Migration("m1"), EventType::kNormal, "Applied", "Migrate", "done");
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 1; }));
  sink_.DeleteAll();  // the API server's event TTL ran out
  clock_.Advance(1min);
  r->Event(Migration("m1"), EventType::kNormal, "Applied", "Migrate", "done");
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 2; }));
  EXPECT_EQ(sink_.patches(), 1);
  EXPECT_EQ(sink_.Events().size(), 1u);
}

TEST_F(EventRecorderTest, NeverBlocksTheCallerAndDropsWhenFull) {
  EventRecorderOptions o;
  o.queue_capacity = 5;
  sink_.Block(true);  // the API server hangs
  auto r = Recorder(o);
  struct Unblock {
    FakeSink* sink;
    ~Unblock() { sink->Block(false); }  // before `r` joins its sender
  } unblock{&sink_};
  r->Event(Migration("first"), EventType::kNormal, "X", "Y", "z");
  ASSERT_TRUE(Eventually([&] { return sink_.waiting() == 1; }));
  for (int i = 0; i < 19; ++i) {
    r->Event(Migration("m" + std::to_string(i)), EventType::kNormal, "X", "Y", "z");
  }
  // Every call returned at once: the sender holds one event in the hung
  // call, 5 wait in the queue, the other 14 were dropped.
  EXPECT_EQ(r->dropped(), 14u);
  sink_.Block(false);
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 6; }));
}

TEST_F(EventRecorderTest, WritesAreRateLimited) {
  EventRecorderOptions o;
  o.qps = 0.5;  // one token per 2 s
  o.burst = 2;
  auto r = Recorder(o);
  for (int i = 0; i < 4; ++i) {
    r->Event(Migration("m" + std::to_string(i)), EventType::kNormal, "X", "Y", "z");
  }
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 2; }));
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  EXPECT_EQ(sink_.creates(), 2);
  clock_.Advance(2s);
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 3; }));
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  EXPECT_EQ(sink_.creates(), 3);
  clock_.Advance(2s);
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 4; }));
}

TEST_F(EventRecorderTest, FailuresAreCountedNotFatal) {
  auto r = Recorder();
  sink_.FailNextCreate(ForbiddenError("events is forbidden"));
  r->Event(Migration("m1"), EventType::kNormal, "X", "Y", "z");
  ASSERT_TRUE(Eventually([&] { return r->write_failures() == 1; }));
  r->Event(Migration("m1"), EventType::kNormal, "X", "Y", "z");
  ASSERT_TRUE(Eventually([&] { return sink_.Events().size() == 1; }));
}

TEST_F(EventRecorderTest, ShutdownFlushesPendingSeriesCounts) {
  auto r = Recorder();
  for (int i = 0; i < 3; ++i) {
    r->Event(Migration("m1"), EventType::kNormal, "Waiting", "Lock", "busy");
  }
  r->Shutdown();
  auto e = sink_.Events();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["series"]["count"], 3);
  r->Event(Migration("m1"), EventType::kNormal, "Waiting", "Lock", "busy");
  EXPECT_EQ(r->dropped(), 1u);
}

TEST_F(EventRecorderTest, LongNotesAreTruncatedToTheApiLimit) {
  auto r = Recorder();
  r->Event(Migration("m1"), EventType::kNormal, "X", "Y", std::string(5000, 'x'));
  ASSERT_TRUE(Eventually([&] { return sink_.creates() == 1; }));
  EXPECT_EQ(sink_.Events()[0]["note"].get<std::string>().size(), 1024u);
}

}  // namespace
}  // namespace sg::kube
