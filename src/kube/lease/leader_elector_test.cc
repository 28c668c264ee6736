#include "kube/lease/leader_elector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kube/lease/fake_lease_lock.h"
#include "kube/lease/lease_test_util.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

// Records callbacks (called on the elector's thread) for the test thread.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  void Add(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    events.push_back(std::move(e));
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> l(mu);
    return events;
  }
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaderElector> Elector(const std::string& id, Recorder* rec,
                                         FakeLeaseLock** raw = nullptr, double random = 0.0) {
    auto lock = std::make_unique<FakeLeaseLock>(&store_, "kube-system/schemagate");
    if (raw) *raw = lock.get();
    LeaderElectorConfig config;
    config.identity = id;
    config.random = [random] { return random; };
    config.callbacks.on_started_leading = [rec](int64_t token) {
      rec->Add("started:" + std::to_string(token));
    };
    config.callbacks.on_stopped_leading = [rec] { rec->Add("stopped"); };
    config.callbacks.on_new_leader = [rec](const std::string& who) { rec->Add("leader:" + who); };
    auto e = LeaderElector::New(std::move(lock), std::move(config), &clock_);
    EXPECT_TRUE(e.ok()) << e.status();
    return std::move(e).value();
  }

  // Waits until the elector thread is parked on the fake clock, then
  // advances it.
  void AdvanceWhenParked(Clock::Duration d) {
    ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
    clock_.Advance(d);
  }

  LeaseRecord Foreign(const std::string& holder) {
    LeaseRecord r;
    r.holder_identity = holder;
    r.lease_duration_seconds = 15;
    r.acquire_time = r.renew_time = clock_.WallNow();
    return r;
  }

  FakeClock clock_;
  FakeLeaseStore store_{&clock_};
};

TEST_F(LeaderElectorTest, RejectsInvalidTimings) {
  LeaderElectorConfig config;
  config.identity = "a";
  config.timings = {10s, 10s, 2s};
  auto e = LeaderElector::New(std::make_unique<FakeLeaseLock>(&store_), config, &clock_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalid);
}

TEST_F(LeaderElectorTest, LeadsRenewsAndReleasesOnStop) {
  Recorder rec;
  auto e = Elector("a", &rec);
  Status result = InternalError("not run");
  std::thread run([&] { result = e->Run(); });
  ASSERT_TRUE(Eventually([&] { return e->IsLeader(); }));
  // Created free (version 1) and taken over: token 1 + 1.
  EXPECT_EQ(e->FencingToken(), 2);
  const int writes = store_.writes();
  for (int i = 1; i <= 3; ++i) {
    AdvanceWhenParked(2s);
    ASSERT_TRUE(Eventually([&] { return store_.writes() == writes + i; }));
  }
  EXPECT_TRUE(e->IsLeader());
  EXPECT_EQ(e->FencingToken(), 2);  // renewals keep it
  EXPECT_EQ(store_.Peek()->record.fencing_token, 2);
  EXPECT_EQ(store_.Peek()->record.renew_time, clock_.WallNow());
  e->Stop();
  run.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(store_.Peek()->record.holder_identity, "");
  EXPECT_EQ(store_.Peek()->record.lease_duration_seconds, 1);
  EXPECT_FALSE(e->IsLeader());
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"leader:a", "started:2", "leader:", "stopped"}));
}

TEST_F(LeaderElectorTest, StandbyTakesOverAfterLeaderStopsRenewing) {
  store_.Put(Foreign("crashed"));  // version 1
  Recorder rec;
  auto e = Elector("b", &rec);
  std::thread run([&] { e->Run().IgnoreError(); });
  ASSERT_TRUE(Eventually([&] { return e->CurrentLeader() == "crashed"; }));
  // Retry every 2 s; the crashed holder's lease lasts 15 s from our first
  // observation: the 8th retry (16 s) takes over.
  for (int i = 0; i < 7; ++i) {
    AdvanceWhenParked(2s);
    ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
    EXPECT_FALSE(e->IsLeader()) << "at " << (i + 1) * 2 << "s";
  }
  AdvanceWhenParked(2s);
  ASSERT_TRUE(Eventually([&] { return e->IsLeader(); }));
  EXPECT_EQ(e->FencingToken(), 2);
  e->Stop();
  run.join();
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"leader:crashed", "leader:b", "started:2",
                                                 "leader:", "stopped"}));
}

TEST_F(LeaderElectorTest, AcquireRetriesWithJitter) {
  store_.Put(Foreign("other"));
  Recorder rec;
  FakeLeaseLock* lock = nullptr;
  auto e = Elector("b", &rec, &lock, /*random=*/0.5);  // wait 2 s + 1.2 s
  std::thread run([&] { e->Run().IgnoreError(); });
  ASSERT_TRUE(Eventually([&] { return lock->calls() == 1; }));
  AdvanceWhenParked(3100ms);
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  EXPECT_EQ(lock->calls(), 1);
  clock_.Advance(100ms);
  ASSERT_TRUE(Eventually([&] { return lock->calls() == 2; }));
  e->Stop();
  run.join();
}

TEST_F(LeaderElectorTest, HungRenewLosesLeadershipAtRenewDeadline) {
  Recorder rec;
  FakeLeaseLock* lock = nullptr;
  auto e = Elector("a", &rec, &lock);
  Status result;
  std::thread run([&] { result = e->Run(); });
  ASSERT_TRUE(Eventually([&] { return e->IsLeader(); }));
  const auto acquired = clock_.Now();
  lock->SetHung(true);
  // Keep advancing whatever the elector waits on (its retry timer or a hung
  // request's timeout) until Run returns.
  std::atomic<bool> done{false};
  std::thread driver([&] {
    while (!done) {
      if (clock_.waiters() > 0 && !done) clock_.Advance(500ms);
      std::this_thread::sleep_for(1ms);
    }
  });
  run.join();
  done = true;
  driver.join();
  EXPECT_EQ(result.code(), Code::kFailedPrecondition) << result;
  EXPECT_NE(result.message().find("Timeout"), std::string::npos) << result;
  EXPECT_FALSE(e->IsLeader());
  // It stopped at the deadline: no later than RenewDeadline (+ one driver
  // step) after the last successful write.
  EXPECT_LE(clock_.Now() - acquired, 10s + 500ms);
  EXPECT_EQ(rec.Get().back(), "stopped");
  // Nothing was released: a hung client cannot write; the lease expires.
  EXPECT_EQ(store_.Peek()->record.holder_identity, "a");
}

// The reproduction of a leader outliving its tenure: a renew round that
// starts just before the renew deadline used to give its fallback Get and
// Update the full request timeout each once the deadline had passed, so Run
// returned ~20 s after the last write while a standby may lead 15 s after it.
TEST_F(LeaderElectorTest, RenewRoundStartedJustBeforeTheDeadlineStopsLeadingByIt) {
  Recorder rec;
  FakeLeaseLock* lock = nullptr;
  auto e = Elector("a", &rec, &lock);  // 15 s / 10 s / 2 s
  Status result;
  std::atomic<bool> done{false};
  Clock::TimePoint returned_at{};
  std::thread run([&] {
    result = e->Run();
    returned_at = clock_.Now();
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return e->IsLeader(); }));
  // The acquiring write is the last one: a standby that saw it can lead
  // from last_write + LeaseDuration on.
  const auto last_write = clock_.Now();
  const auto held_until = e->claim().HeldUntil();
  ASSERT_EQ(held_until, last_write + 10s);
  // Rounds start 2 s after the previous round started (at once if overdue):
  //   +2.0  fast Update fails after 3.9 s, the Get at once   -> ends +5.9
  //   +5.9  fast Update and Get fail at once                 -> next +7.9
  //   +7.9  fast Update and Get fail at once                 -> next +9.9
  //   +9.9  fast Update hangs (capped to the 0.1 s left); then a Get that
  //         answers after 4.9 s and an Update that hangs.
  lock->DelayNext(3900ms, UnavailableError("connection reset"));
  for (int i = 0; i < 5; ++i) lock->FailNext(UnavailableError("connection reset"));
  lock->DelayNext(Clock::Duration::max());
  lock->DelayNext(4900ms);
  lock->DelayNext(Clock::Duration::max());
  // Only the elector's thread parks on the clock, so advancing in 100 ms
  // steps whenever it is parked reaches every deadline exactly.
  std::thread driver([&] {
    while (!done) {
      if (clock_.waiters() > 0) clock_.Advance(100ms);
      std::this_thread::sleep_for(1ms);
    }
  });
  run.join();
  driver.join();
  EXPECT_EQ(result.code(), Code::kFailedPrecondition) << result;
  EXPECT_EQ(rec.Get().back(), "stopped");
  EXPECT_FALSE(e->IsLeader());
  EXPECT_LE(returned_at - last_write, held_until - last_write)
      << "stopped leading " << std::chrono::duration<double>(returned_at - last_write).count()
      << " s after the last write";
  EXPECT_LT(returned_at, last_write + 15s);  // strictly before a standby may lead
}

TEST_F(LeaderElectorTest, LeaderNoticesTakeoverAndStops) {
  Recorder rec;
  auto e = Elector("a", &rec);
  Status result;
  std::thread run([&] { result = e->Run(); });
  ASSERT_TRUE(Eventually([&] { return e->IsLeader(); }));
  store_.Put(Foreign("b"));  // e.g. an operator edited the Lease
  AdvanceWhenParked(2s);
  run.join();
  EXPECT_EQ(result.code(), Code::kFailedPrecondition);
  EXPECT_EQ(store_.Peek()->record.holder_identity, "b");
  auto events = rec.Get();
  EXPECT_EQ(events.back(), "stopped");
  EXPECT_EQ(events[events.size() - 2], "leader:b");
}

TEST_F(LeaderElectorTest, StopBeforeLeadingReturnsWithoutCallbacks) {
  store_.Put(Foreign("other"));
  Recorder rec;
  auto e = Elector("b", &rec);
  Status result = InternalError("not run");
  std::thread run([&] { result = e->Run(); });
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  e->Stop();
  run.join();
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"leader:other"}));
  EXPECT_EQ(store_.Peek()->record.holder_identity, "other");
}

TEST_F(LeaderElectorTest, TwoCandidatesExactlyOneLeads) {
  Recorder ra, rb;
  auto a = Elector("a", &ra);
  auto b = Elector("b", &rb);
  std::thread run_a([&] { a->Run().IgnoreError(); });
  ASSERT_TRUE(Eventually([&] { return a->IsLeader(); }));
  std::thread run_b([&] { b->Run().IgnoreError(); });
  ASSERT_TRUE(Eventually([&] { return b->CurrentLeader() == "a"; }));
  EXPECT_FALSE(b->IsLeader());
  const int64_t a_token = a->FencingToken().value_or(-1);
  EXPECT_GE(a_token, 1);
  // Graceful handover: a releases, b acquires on its next retry.
  a->Stop();
  run_a.join();
  ASSERT_TRUE(Eventually([&] { return clock_.waiters() > 0; }));
  clock_.Advance(2s);
  ASSERT_TRUE(Eventually([&] { return b->IsLeader(); }));
  EXPECT_FALSE(a->IsLeader());
  EXPECT_GT(b->FencingToken().value_or(-1), a_token);
  b->Stop();
  run_b.join();
}

}  // namespace
}  // namespace sg::kube
