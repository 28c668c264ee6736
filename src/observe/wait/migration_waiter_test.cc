#include "observe/wait/migration_waiter.h"

#include <gtest/gtest.h>

#include <deque>
#include <future>
#include <thread>

namespace sg::observe {
namespace {

using namespace std::chrono_literals;
using kube::Cancellation;
using kube::ListOptions;
using kube::ListPage;
using kube::WatchEvent;
using kube::WatchEventType;
using kube::WatchStream;
using nlohmann::json;

json Sm(int64_t generation, int64_t observed, const std::string& ready, int64_t applied,
        const std::string& rv, const std::string& stalled = "False") {
  return {
      {"metadata",
       {{"name", "app"}, {"namespace", "ns"}, {"generation", generation}, {"resourceVersion", rv}}},
      {"status",
       {{"observedGeneration", observed},
        {"appliedVersion", applied},
        {"conditions",
         {{{"type", "Ready"}, {"status", ready}, {"reason", "R" + rv}},
          {{"type", "Stalled"}, {"status", stalled}}}}}}};
}

// Events the test pushes one at a time; Next() blocks until one arrives or
// the watch is cancelled.
class Channel {
 public:
  void Push(WatchEvent e) {
    std::lock_guard<std::mutex> l(mu_);
    q_.push_back(std::move(e));
    cv_.notify_all();
  }
  StatusOr<std::optional<WatchEvent>> Next(const Cancellation& cancel) {
    kube::CancelRegistration reg(cancel, [this] {
      std::lock_guard<std::mutex> l(mu_);
      cv_.notify_all();
    });
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !q_.empty() || cancel.cancelled(); });
    if (cancel.cancelled()) return CancelledError("watch cancelled");
    WatchEvent e = std::move(q_.front());
    q_.pop_front();
    return std::optional<WatchEvent>(std::move(e));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> q_;
};

class FakeLw : public kube::ListerWatcher {
 public:
  StatusOr<ListPage> List(const ListOptions& o) override {
    std::lock_guard<std::mutex> l(mu);
    list_calls.push_back(o);
    if (list_error) return *list_error;
    return ListPage{items, "10", ""};
  }
  StatusOr<std::unique_ptr<WatchStream>> Watch(const ListOptions& o,
                                               const Cancellation& cancel) override {
    {
      std::lock_guard<std::mutex> l(mu);
      watch_calls.push_back(o);
    }
    struct S : WatchStream {
      Channel* ch;
      const Cancellation* cancel;
      StatusOr<std::optional<WatchEvent>> Next() override { return ch->Next(*cancel); }
    };
    auto s = std::make_unique<S>();
    s->ch = &channel;
    s->cancel = &cancel;
    return std::unique_ptr<WatchStream>(std::move(s));
  }
  std::mutex mu;
  std::vector<json> items;
  std::optional<Status> list_error;
  std::vector<ListOptions> list_calls, watch_calls;
  Channel channel;
};

// Progress lines, with a deadline-bounded wait for the n-th.
struct Progress {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WaitDecision> seen;
  void Add(const WaitDecision& d) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(d);
    cv.notify_all();
  }
  bool WaitForCount(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, 10s, [&] { return seen.size() >= n; });
  }
  WaitDecision At(size_t i) {
    std::lock_guard<std::mutex> l(mu);
    return seen.at(i);
  }
};

class MigrationWaiterTest : public ::testing::Test {
 protected:
  std::future<WaitResult> Start(WaitOptions o) {
    o.name = "app";
    o.watcher.jitter = 0;
    o.watcher.seed = 1;
    waiter_ = std::make_unique<MigrationWaiter>(&lw_, &clock_, std::move(o));
    waiter_->on_progress = [this](const WaitDecision& d) { progress_.Add(d); };
    return std::async(std::launch::async, [this] { return waiter_->Wait(); });
  }
  // Drives the fake clock through backoffs until the waiter returns.
  WaitResult Drive(std::future<WaitResult>& f) {
    for (int i = 0; i < 100000; ++i) {
      if (f.wait_for(1ms) == std::future_status::ready) return f.get();
      if (clock_.waiters() > 0) clock_.Advance(30s);
    }
    ADD_FAILURE() << "waiter did not return";
    waiter_->Cancel();
    return f.get();
  }
  static void ExpectStillWaiting(std::future<WaitResult>& f) {
    EXPECT_NE(f.wait_for(0ms), std::future_status::ready);
  }

  FakeClock clock_;
  FakeLw lw_;
  Progress progress_;
  std::unique_ptr<MigrationWaiter> waiter_;
};

TEST_F(MigrationWaiterTest, AlreadyReadyReturnsAtOnceWithoutWatching) {
  lw_.items = {Sm(1, 1, "True", 5, "7")};
  WaitOptions o;
  o.criteria.min_version = 5;
  auto f = Start(o);
  WaitResult r = f.get();
  EXPECT_EQ(r.outcome, WaitOutcome::kReady);
  EXPECT_EQ(r.last.detail, "ready: applied version 5 >= 5");
  ASSERT_EQ(lw_.list_calls.size(), 1u);
  EXPECT_EQ(lw_.list_calls[0].field_selector, "metadata.name=app");
  EXPECT_TRUE(lw_.watch_calls.empty());
}

TEST_F(MigrationWaiterTest, WaitsForCreationThenCurrentReady) {
  auto f = Start({});
  ASSERT_TRUE(progress_.WaitForCount(1));
  EXPECT_EQ(progress_.At(0).state, WaitDecision::State::kAbsent);

  lw_.channel.Push({WatchEventType::kAdded, Sm(1, 1, "False", 0, "11")});
  ASSERT_TRUE(progress_.WaitForCount(2));
  ExpectStillWaiting(f);
  EXPECT_EQ(progress_.At(1).detail, "Ready=False (R11), Stalled=False; applied version 0");

  // Ready=True, but for the previous generation: not done.
  lw_.channel.Push({WatchEventType::kModified, Sm(2, 1, "True", 4, "12")});
  ASSERT_TRUE(progress_.WaitForCount(3));
  ExpectStillWaiting(f);
  EXPECT_EQ(progress_.At(2).state, WaitDecision::State::kWaiting);

  lw_.channel.Push({WatchEventType::kModified, Sm(2, 2, "True", 4, "13")});
  WaitResult r = f.get();
  EXPECT_EQ(r.outcome, WaitOutcome::kReady);
  ASSERT_EQ(lw_.watch_calls.size(), 1u);
  EXPECT_EQ(lw_.watch_calls[0].resource_version, "10");
  EXPECT_EQ(lw_.watch_calls[0].field_selector, "metadata.name=app");
}

TEST_F(MigrationWaiterTest, MinVersionKeepsWaitingUntilReached) {
  lw_.items = {Sm(1, 1, "True", 3, "7")};
  WaitOptions o;
  o.criteria.min_version = 4;
  auto f = Start(o);
  ASSERT_TRUE(progress_.WaitForCount(1));
  EXPECT_EQ(progress_.At(0).detail, "Ready=True but applied version 3 < required 4");
  ExpectStillWaiting(f);
  lw_.channel.Push({WatchEventType::kDeleted, Sm(1, 1, "True", 3, "8")});
  ASSERT_TRUE(progress_.WaitForCount(2));
  EXPECT_EQ(progress_.At(1).state, WaitDecision::State::kAbsent);
  lw_.channel.Push({WatchEventType::kAdded, Sm(1, 1, "True", 4, "9")});
  EXPECT_EQ(f.get().outcome, WaitOutcome::kReady);
}

TEST_F(MigrationWaiterTest, StalledFailsOnlyWhenAsked) {
  lw_.items = {Sm(1, 1, "False", 2, "7", "True")};
  WaitOptions o;
  o.fail_on_stalled = true;
  auto f = Start(o);
  WaitResult r = f.get();
  EXPECT_EQ(r.outcome, WaitOutcome::kStalled);

  // Without the flag a stalled migration is waited out: a human may fix it.
  progress_.seen.clear();
  auto g = Start({});
  ASSERT_TRUE(progress_.WaitForCount(1));
  EXPECT_EQ(progress_.At(0).state, WaitDecision::State::kStalled);
  ExpectStillWaiting(g);
  lw_.channel.Push({WatchEventType::kModified, Sm(2, 2, "True", 3, "8")});
  EXPECT_EQ(g.get().outcome, WaitOutcome::kReady);
}

TEST_F(MigrationWaiterTest, TimeoutInterruptsABlockedWatch) {
  WaitOptions o;
  o.timeout = 30s;
  auto f = Start(o);
  ASSERT_TRUE(progress_.WaitForCount(1));  // listed: absent; now blocked in the watch
  // Wait until the deadline thread is parked on the fake clock, then pass it.
  for (int i = 0; i < 10000 && clock_.waiters() < 1; ++i) std::this_thread::sleep_for(1ms);
  ExpectStillWaiting(f);
  clock_.Advance(29s);
  ExpectStillWaiting(f);
  clock_.Advance(1s);
  WaitResult r = f.get();
  EXPECT_EQ(r.outcome, WaitOutcome::kTimeout);
  EXPECT_EQ(r.last.state, WaitDecision::State::kAbsent);
}

TEST_F(MigrationWaiterTest, PersistentApiFailures) {
  lw_.list_error = ForbiddenError("schemamigrations is forbidden");
  WaitOptions o;
  o.max_api_failures = 3;
  std::vector<int> counts;
  auto f = Start(o);
  WaitResult r = Drive(f);
  EXPECT_EQ(r.outcome, WaitOutcome::kApiRefused);
  EXPECT_EQ(r.last_error.code(), Code::kForbidden);
  EXPECT_EQ(lw_.list_calls.size(), 3u);

  lw_.list_calls.clear();
  lw_.list_error = UnavailableError("connection refused");
  auto g = Start(o);
  r = Drive(g);
  EXPECT_EQ(r.outcome, WaitOutcome::kApiUnreachable);
  EXPECT_EQ(lw_.list_calls.size(), 3u);
}

TEST_F(MigrationWaiterTest, TransientFailuresAreRetried) {
  lw_.list_error = UnavailableError("connection refused");
  WaitOptions o;
  o.max_api_failures = 5;
  auto f = Start(o);
  // Two failures, then the API server answers with a Ready object.
  for (int i = 0; i < 10000; ++i) {
    {
      std::lock_guard<std::mutex> l(lw_.mu);
      if (lw_.list_calls.size() >= 2) {
        lw_.list_error.reset();
        lw_.items = {Sm(1, 1, "True", 1, "5")};
        break;
      }
    }
    if (clock_.waiters() > 0) clock_.Advance(30s);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(Drive(f).outcome, WaitOutcome::kReady);
}

TEST_F(MigrationWaiterTest, CancelReturnsPromptly) {
  auto f = Start({});
  ASSERT_TRUE(progress_.WaitForCount(1));
  waiter_->Cancel();
  EXPECT_EQ(f.get().outcome, WaitOutcome::kCancelled);
}

}  // namespace
}  // namespace sg::observe
