#include "kube/watch/watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <thread>

namespace sg::kube {
namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

Json Obj(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"name", name}, {"resourceVersion", rv}}}};
}
using Item = StatusOr<std::optional<WatchEvent>>;
Item Ev(WatchEventType t, Json o) { return std::optional(WatchEvent{t, std::move(o)}); }
Item Gone() {
  return Ev(WatchEventType::kError,
            {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}});
}

using Script = std::vector<Item>;

// Scripted answers: each List() / Watch() call consumes the next entry; a
// stream returns its script, then ends normally.
class FakeListerWatcher : public ListerWatcher {
 public:
  StatusOr<ListPage> List(const ListOptions& o) override {
    list_calls.push_back(o);
    if (lists.empty()) return UnavailableError("no scripted list");
    auto r = lists.front();
    lists.pop_front();
    return r;
  }
  StatusOr<std::unique_ptr<WatchStream>> Watch(const ListOptions& o, const Cancellation&) override {
    watch_calls.push_back(o);
    if (watches.empty()) return UnavailableError("no scripted watch");
    auto r = watches.front();
    watches.pop_front();
    if (!r.ok()) return r.status();
    return std::unique_ptr<WatchStream>(std::make_unique<Stream>(std::move(r).value()));
  }

  class Stream : public WatchStream {
   public:
    explicit Stream(Script s) : script_(s.begin(), s.end()) {}
    StatusOr<std::optional<WatchEvent>> Next() override {
      if (script_.empty()) return std::optional<WatchEvent>();
      auto r = script_.front();
      script_.pop_front();
      return r;
    }

   private:
    std::deque<StatusOr<std::optional<WatchEvent>>> script_;
  };

  std::deque<StatusOr<ListPage>> lists;
  std::deque<StatusOr<Script>> watches;
  std::vector<ListOptions> list_calls;
  std::vector<ListOptions> watch_calls;
};

ListPage Page(std::vector<Json> items, std::string rv, std::string cont = "") {
  return ListPage{std::move(items), std::move(rv), std::move(cont)};
}

WatcherOptions NoJitter() {
  WatcherOptions o;
  o.jitter = 0;
  o.seed = 42;
  o.label_selector = "app=x";
  return o;
}

class WatcherTest : public ::testing::Test {
 protected:
  // Steps until an event or an error is produced, advancing the fake clock
  // through backoffs; fails the test after 50 steps.
  Watcher::StepResult StepToSomething(Watcher& w) {
    for (int i = 0; i < 50; ++i) {
      auto r = w.Step();
      if (r.wait.count() > 0) {
        waits.push_back(r.wait);
        clock.Advance(r.wait);
        continue;
      }
      if (r.event || !r.error.ok()) return r;
    }
    ADD_FAILURE() << "no event after 50 steps";
    return {};
  }

  FakeClock clock;
  FakeListerWatcher lw;
  std::vector<Clock::Duration> waits;
};

TEST_F(WatcherTest, ListsAllPagesThenWatchesFromListRv) {
  lw.lists.push_back(Page({Obj("a", "1"), Obj("b", "2")}, "", "tok"));
  lw.lists.push_back(Page({Obj("c", "3")}, "5"));
  lw.watches.push_back(Script{
      Ev(WatchEventType::kAdded, Obj("d", "6")), Ev(WatchEventType::kBookmark, Obj("", "8")),
      Ev(WatchEventType::kModified, Obj("a", "9")), Ev(WatchEventType::kDeleted, Obj("b", "10"))});
  lw.watches.push_back(Script{});
  Watcher w(&lw, &clock, NoJitter());
  EXPECT_EQ(w.state(), Watcher::State::kListing);

  auto r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kRestarted);
  ASSERT_EQ(r.event->objects.size(), 3u);
  EXPECT_EQ(r.event->objects[2]["metadata"]["name"], "c");
  ASSERT_EQ(lw.list_calls.size(), 2u);
  EXPECT_EQ(lw.list_calls[0].limit, 500);
  EXPECT_EQ(lw.list_calls[0].label_selector, "app=x");
  EXPECT_EQ(lw.list_calls[1].continue_token, "tok");
  EXPECT_EQ(w.resource_version(), "5");
  EXPECT_EQ(w.state(), Watcher::State::kListed);

  r = StepToSomething(w);
  ASSERT_EQ(lw.watch_calls.size(), 1u);
  const ListOptions& wo = lw.watch_calls[0];
  EXPECT_EQ(wo.resource_version, "5");
  EXPECT_TRUE(wo.allow_watch_bookmarks);
  EXPECT_EQ(wo.label_selector, "app=x");
  ASSERT_TRUE(wo.timeout_seconds.has_value());
  EXPECT_GE(*wo.timeout_seconds, 300);
  EXPECT_LE(*wo.timeout_seconds, 600);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kApplied);
  EXPECT_EQ(r.event->object["metadata"]["name"], "d");
  EXPECT_EQ(w.resource_version(), "6");

  r = StepToSomething(w);  // the bookmark is absorbed; next is MODIFIED
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kApplied);
  EXPECT_EQ(r.event->object["metadata"]["name"], "a");
  r = StepToSomething(w);
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kDeleted);
  EXPECT_EQ(w.resource_version(), "10");

  // The stream ends (server timeout): re-watch from the last rv, no re-list,
  // no backoff.
  w.Step();
  EXPECT_EQ(w.state(), Watcher::State::kListed);
  w.Step();
  ASSERT_EQ(lw.watch_calls.size(), 2u);
  EXPECT_EQ(lw.watch_calls[1].resource_version, "10");
  EXPECT_EQ(lw.list_calls.size(), 2u);
  EXPECT_TRUE(waits.empty());
}

TEST_F(WatcherTest, LastStepIsWhenTheLastStepReturned) {
  lw.lists.push_back(Page({Obj("a", "1")}, "1"));
  lw.watches.push_back(Script{Ev(WatchEventType::kAdded, Obj("b", "2"))});
  Watcher w(&lw, &clock, NoJitter());
  const auto built = clock.Now();
  EXPECT_EQ(w.LastStep(), built);  // nothing stepped yet
  clock.Advance(std::chrono::minutes(20));
  EXPECT_EQ(w.LastStep(), built);  // a watcher that never steps looks stuck
  w.Step();
  EXPECT_EQ(w.LastStep(), clock.Now());
  clock.Advance(std::chrono::seconds(7));
  w.Step();  // opens the watch and takes an event
  EXPECT_EQ(w.LastStep(), clock.Now());
}

TEST_F(WatcherTest, GoneErrorEventRelistsAtOnce) {
  lw.lists.push_back(Page({Obj("a", "1")}, "1"));
  lw.watches.push_back(Script{Ev(WatchEventType::kAdded, Obj("b", "2")), Gone()});
  lw.lists.push_back(Page({Obj("b", "7")}, "7"));
  Watcher w(&lw, &clock, NoJitter());
  StepToSomething(w);  // restarted
  StepToSomething(w);  // applied b
  auto r = StepToSomething(w);
  EXPECT_EQ(r.error.code(), Code::kGone);
  EXPECT_EQ(w.state(), Watcher::State::kListing);
  r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kRestarted);
  ASSERT_EQ(r.event->objects.size(), 1u);
  EXPECT_EQ(w.resource_version(), "7");
  ASSERT_EQ(lw.list_calls.size(), 2u);
  EXPECT_TRUE(lw.list_calls[1].continue_token.empty());
  EXPECT_TRUE(waits.empty());  // 410 is not a failure to back off from
}

TEST_F(WatcherTest, ExpiredContinueTokenRestartsListAtOnce) {
  lw.lists.push_back(Page({Obj("a", "1")}, "", "tok"));
  lw.lists.push_back(GoneError("continue parameter is too old (Expired, HTTP 410)"));
  lw.lists.push_back(Page({Obj("a", "1")}, "", "tok2"));
  lw.lists.push_back(Page({Obj("b", "2")}, "9"));
  Watcher w(&lw, &clock, NoJitter());
  EXPECT_EQ(StepToSomething(w).error.code(), Code::kGone);
  auto r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  // Only the fresh list's items: nothing from the abandoned first page.
  ASSERT_EQ(r.event->objects.size(), 2u);
  EXPECT_EQ(r.event->objects[1]["metadata"]["name"], "b");
  ASSERT_EQ(lw.list_calls.size(), 4u);
  EXPECT_EQ(lw.list_calls[1].continue_token, "tok");
  EXPECT_TRUE(lw.list_calls[2].continue_token.empty());
  EXPECT_TRUE(waits.empty());
}

TEST_F(WatcherTest, GoneHttpStatusOnWatchRelists) {
  lw.lists.push_back(Page({}, "1"));
  lw.watches.push_back(GoneError("too old resource version (Expired, HTTP 410)"));
  lw.lists.push_back(Page({Obj("x", "9")}, "9"));
  Watcher w(&lw, &clock, NoJitter());
  StepToSomething(w);
  auto r = StepToSomething(w);
  EXPECT_EQ(r.error.code(), Code::kGone);
  r = StepToSomething(w);
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kRestarted);
  EXPECT_EQ(w.resource_version(), "9");
}

TEST_F(WatcherTest, GoneMidStreamRelists) {
  lw.lists.push_back(Page({}, "1"));
  lw.watches.push_back(Script{GoneError("410 mid-stream")});
  lw.lists.push_back(Page({}, "3"));
  Watcher w(&lw, &clock, NoJitter());
  StepToSomething(w);
  EXPECT_EQ(StepToSomething(w).error.code(), Code::kGone);
  EXPECT_EQ(StepToSomething(w).event->type, WatcherEvent::Type::kRestarted);
}

TEST_F(WatcherTest, ListFailuresBackOffExponentiallyUpTo30s) {
  for (int i = 0; i < 8; ++i) lw.lists.push_back(UnavailableError("connection refused"));
  lw.lists.push_back(Page({Obj("a", "1")}, "1"));
  Watcher w(&lw, &clock, NoJitter());
  for (int i = 0; i < 8; ++i) {
    auto r = StepToSomething(w);
    EXPECT_EQ(r.error.code(), Code::kUnavailable);
  }
  auto r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kRestarted);
  EXPECT_EQ(waits, (std::vector<Clock::Duration>{milliseconds(800), milliseconds(1600),
                                                 milliseconds(3200), milliseconds(6400),
                                                 milliseconds(12800), milliseconds(25600),
                                                 milliseconds(30000), milliseconds(30000)}));
  // A success resets the backoff.
  EXPECT_EQ(w.next_backoff(), milliseconds(800));
}

TEST_F(WatcherTest, WatchConnectionErrorResumesFromRvAfterBackoff) {
  lw.lists.push_back(Page({}, "4"));
  lw.watches.push_back(
      Script{Ev(WatchEventType::kAdded, Obj("a", "5")), UnavailableError("connection reset")});
  lw.watches.push_back(UnavailableError("connection refused"));
  lw.watches.push_back(Script{Ev(WatchEventType::kModified, Obj("a", "6"))});
  Watcher w(&lw, &clock, NoJitter());
  StepToSomething(w);
  StepToSomething(w);  // applied a@5
  EXPECT_EQ(StepToSomething(w).error.code(), Code::kUnavailable);
  EXPECT_EQ(w.state(), Watcher::State::kListed);
  EXPECT_EQ(StepToSomething(w).error.code(), Code::kUnavailable);
  auto r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->object["metadata"]["resourceVersion"], "6");
  ASSERT_EQ(lw.watch_calls.size(), 3u);
  EXPECT_EQ(lw.watch_calls[1].resource_version, "5");
  EXPECT_EQ(lw.watch_calls[2].resource_version, "5");
  EXPECT_EQ(lw.list_calls.size(), 1u);  // no re-list
  EXPECT_EQ(waits, (std::vector<Clock::Duration>{milliseconds(800), milliseconds(1600)}));
}

TEST_F(WatcherTest, OtherErrorEventRelistsAfterBackoff) {
  lw.lists.push_back(Page({}, "1"));
  lw.watches.push_back(Script{Ev(
      WatchEventType::kError, {{"kind", "Status"}, {"code", 500}, {"reason", "InternalError"}})});
  lw.lists.push_back(Page({}, "2"));
  Watcher w(&lw, &clock, NoJitter());
  StepToSomething(w);
  EXPECT_EQ(StepToSomething(w).error.code(), Code::kInternal);
  EXPECT_EQ(w.state(), Watcher::State::kListing);
  EXPECT_EQ(StepToSomething(w).event->type, WatcherEvent::Type::kRestarted);
  EXPECT_EQ(waits, std::vector<Clock::Duration>{milliseconds(800)});
}

TEST_F(WatcherTest, JitterStretchesWithinBounds) {
  for (int i = 0; i < 3; ++i) lw.lists.push_back(UnavailableError("down"));
  WatcherOptions o;
  o.seed = 7;
  o.jitter = 0.5;
  Watcher w(&lw, &clock, o);
  for (int i = 0; i < 3; ++i) StepToSomething(w);
  waits.push_back(w.Step().wait);  // the wait after the third failure
  ASSERT_EQ(waits.size(), 3u);
  for (size_t i = 0; i < waits.size(); ++i) {
    auto base = milliseconds(800 << i);
    EXPECT_GE(waits[i], base);
    EXPECT_LT(waits[i], base * 3 / 2);
  }
}

TEST_F(WatcherTest, RunDeliversEventsAndReturnsOnCancel) {
  lw.lists.push_back(Page({Obj("a", "1")}, "1"));
  lw.watches.push_back(Script{Ev(WatchEventType::kAdded, Obj("b", "2"))});
  // Then every watch fails: Run parks in its backoff wait until cancelled.
  Watcher w(&lw, &clock, NoJitter());
  std::vector<WatcherEvent::Type> seen;
  int errors = 0;
  std::thread canceller([&] {
    // Wait (no sleeps) for Run to park on the fake clock, then cancel.
    while (clock.waiters() == 0) std::this_thread::yield();
    w.Cancel();
  });
  Status s = w.Run([&](const WatcherEvent& e) { seen.push_back(e.type); },
                   [&](const Status&) { ++errors; });
  canceller.join();
  EXPECT_EQ(s.code(), Code::kCancelled);
  EXPECT_EQ(seen, (std::vector<WatcherEvent::Type>{WatcherEvent::Type::kRestarted,
                                                   WatcherEvent::Type::kApplied}));
  EXPECT_EQ(errors, 1);
}

// The transform shrinks every object, listed or watched, before the watcher
// keeps it: a page of large objects is never held whole past its step.
TEST_F(WatcherTest, TransformAppliesToListedAndWatchedObjects) {
  auto big = [](const std::string& name, const std::string& rv) {
    Json o = Obj(name, rv);
    o["data"] = {{"file", std::string(1 << 16, 'x')}};
    return o;
  };
  lw.lists.push_back(Page({big("a", "1")}, "", "tok"));
  lw.lists.push_back(Page({big("b", "2")}, "5"));
  lw.watches.push_back(Script{Ev(WatchEventType::kAdded, big("c", "6")),
                              Ev(WatchEventType::kBookmark, Obj("", "7")),
                              Ev(WatchEventType::kDeleted, big("a", "8"))});
  WatcherOptions o = NoJitter();
  int bookmarks_seen = 0;
  o.transform = [&](Json& obj) {
    if (obj["metadata"].value("name", "").empty()) ++bookmarks_seen;
    obj["size"] = obj["data"]["file"].get<std::string>().size();
    obj.erase("data");
  };
  Watcher w(&lw, &clock, o);
  auto r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  ASSERT_EQ(r.event->objects.size(), 2u);
  for (const Json& obj : r.event->objects) {
    EXPECT_FALSE(obj.contains("data")) << obj.dump();
    EXPECT_EQ(obj["size"], 1 << 16);
  }
  r = StepToSomething(w);  // opens the watch, then its first event
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->object["metadata"]["name"], "c");
  EXPECT_FALSE(r.event->object.contains("data"));
  r = StepToSomething(w);
  ASSERT_TRUE(r.event.has_value());
  EXPECT_EQ(r.event->type, WatcherEvent::Type::kDeleted);
  EXPECT_FALSE(r.event->object.contains("data"));
  EXPECT_EQ(w.resource_version(), "8");
  EXPECT_EQ(bookmarks_seen, 0);
}

}  // namespace
}  // namespace sg::kube
