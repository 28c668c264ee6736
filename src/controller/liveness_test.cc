// Liveness of the controller's workers and informers on a FakeClock.
#include "controller/liveness.h"

#include <gtest/gtest.h>

namespace sg::controller {
namespace {

using namespace std::chrono_literals;

TEST(LivenessTest, WorkerStuckInOneReconcileFailsUntilItFinishes) {
  FakeClock clock;
  Liveness live(&clock, {.max_reconcile = 5min, .max_informer_silence = 15min});
  EXPECT_TRUE(live.Check().ok());
  live.Started(0, "shop/accounts");
  live.Started(1, "shop/orders");
  clock.Advance(5min);
  EXPECT_TRUE(live.Check().ok());  // at the limit, not past it
  live.Finished(1);
  live.Started(1, "shop/other");  // a busy worker that keeps finishing is fine
  clock.Advance(1s);
  Status s = live.Check();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("worker 0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("shop/accounts"), std::string::npos) << s.message();
  live.Finished(0);
  EXPECT_TRUE(live.Check().ok());
}

TEST(LivenessTest, InformerWithoutProgressFails) {
  FakeClock clock;
  Liveness live(&clock, {.max_reconcile = 5min, .max_informer_silence = 15min});
  Clock::TimePoint job_progress = clock.Now();
  live.SetInformers({{"Job", [&] { return std::optional<Clock::TimePoint>(job_progress); }},
                     {"Pod", [] { return std::optional<Clock::TimePoint>(); }}});  // cannot tell
  clock.Advance(10min);
  EXPECT_TRUE(live.Check().ok());
  job_progress = clock.Now();  // a watch re-opened
  clock.Advance(15min);
  EXPECT_TRUE(live.Check().ok());
  clock.Advance(1s);
  Status s = live.Check();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("Job informer"), std::string::npos) << s.message();
  // Not leading any more: no informers to watch.
  live.SetInformers({});
  EXPECT_TRUE(live.Check().ok());
}

TEST(LivenessTest, LeaderThatStopsRenewingItsLeaseFails) {
  FakeClock clock;
  Liveness live(
      &clock,
      {.max_reconcile = 5min, .max_informer_silence = 15min, .leader_renew_tolerance = 0.2});
  std::optional<Clock::TimePoint> renewed = clock.Now();
  live.SetLeaderLease("schemagate-system/schemagate-controller", 15s, [&] { return renewed; });
  clock.Advance(18s);  // 15 s + 20 %: at the limit, not past it
  EXPECT_TRUE(live.Check().ok());
  clock.Advance(1s);
  Status s = live.Check();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("schemagate-system/schemagate-controller"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("19s ago"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("18s"), std::string::npos) << s.message();  // the limit
  renewed = clock.Now();                                                 // renewing again
  EXPECT_TRUE(live.Check().ok());
  // Not leading (standing by, released, taken over): not checked.
  renewed.reset();
  clock.Advance(1h);
  EXPECT_TRUE(live.Check().ok());
  // Watching stops (the elector is gone).
  renewed = clock.Now() - 1h;
  live.SetLeaderLease("", 0s, nullptr);
  EXPECT_TRUE(live.Check().ok());
}

}  // namespace
}  // namespace sg::controller
