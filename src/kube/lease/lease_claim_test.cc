#include "kube/lease/lease_claim.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube/lease/fake_lease_lock.h"
#include "kube/lease/lease_test_util.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

// Wraps a lock and runs a hook between a Get and the next write, to
// interleave a competing writer deterministically.
class RacingLock final : public LeaseLock {
 public:
  RacingLock(FakeLeaseStore* store, std::function<void()> after_get)
      : inner_(store), after_get_(std::move(after_get)) {}
  StatusOr<ObservedLease> Get(Clock::Duration t) override {
    auto r = inner_.Get(t);
    if (after_get_) std::exchange(after_get_, nullptr)();
    return r;
  }
  StatusOr<ObservedLease> Create(const LeaseRecord& r, Clock::Duration t) override {
    return inner_.Create(r, t);
  }
  StatusOr<ObservedLease> Update(const std::string& rv, const LeaseRecord& r,
                                 Clock::Duration t) override {
    return inner_.Update(rv, r, t);
  }
  std::string Describe() const override { return inner_.Describe(); }
  void Arm(std::function<void()> after_get) { after_get_ = std::move(after_get); }

 private:
  FakeLeaseLock inner_;
  std::function<void()> after_get_;
};

class LeaseClaimTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaseClaim> Claim(const std::string& id, FakeLeaseLock** raw = nullptr,
                                    LeaseTimings t = {}) {
    auto lock = std::make_unique<FakeLeaseLock>(&store_, "ns/db-lock");
    if (raw) *raw = lock.get();
    auto claim = LeaseClaim::New(std::move(lock), id, t, &clock_);
    EXPECT_TRUE(claim.ok()) << claim.status();
    return std::move(claim).value();
  }

  LeaseRecord Foreign(const std::string& holder, int transitions = 0) {
    LeaseRecord r;
    r.holder_identity = holder;
    r.lease_duration_seconds = 15;
    r.acquire_time = clock_.WallNow();
    r.renew_time = clock_.WallNow();
    r.lease_transitions = transitions;
    return r;
  }

  FakeClock clock_;
  FakeLeaseStore store_{&clock_};
};

TEST(LeaseTimingsTest, ValidatesClientGoRule) {
  EXPECT_TRUE(LeaseTimings{}.Validate().ok());
  EXPECT_FALSE((LeaseTimings{10s, 10s, 2s}.Validate().ok()));     // LD == RD
  EXPECT_FALSE((LeaseTimings{15s, 2400ms, 2s}.Validate().ok()));  // RD == 1.2 RP
  EXPECT_TRUE((LeaseTimings{15s, 2401ms, 2s}.Validate().ok()));
  EXPECT_FALSE((LeaseTimings{15500ms, 10s, 2s}.Validate().ok()));  // fractional seconds
  EXPECT_FALSE((LeaseTimings{15s, 10s, 0s}.Validate().ok()));
  EXPECT_EQ(LeaseTimings{}.RequestTimeout(), 5s);
  EXPECT_EQ((LeaseTimings{3s, 1500ms, 1s}.RequestTimeout()), 1s);
}

TEST_F(LeaseClaimTest, NewRejectsBadConfig) {
  EXPECT_FALSE(LeaseClaim::New(std::make_unique<FakeLeaseLock>(&store_), "", {}, &clock_).ok());
  EXPECT_FALSE(LeaseClaim::New(std::make_unique<FakeLeaseLock>(&store_), "a",
                               LeaseTimings{5s, 10s, 2s}, &clock_)
                   .ok());
}

TEST_F(LeaseClaimTest, AcquiresAbsentLeaseByCreating) {
  auto a = Claim("a");
  EXPECT_FALSE(a->Held());
  auto r = a->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_TRUE(a->Held());
  EXPECT_EQ(a->FencingToken(), 0);
  auto stored = store_.Peek();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->record.holder_identity, "a");
  EXPECT_EQ(stored->record.lease_duration_seconds, 15);
  EXPECT_EQ(stored->record.acquire_time, clock_.WallNow());
  EXPECT_EQ(stored->record.renew_time, clock_.WallNow());
}

TEST_F(LeaseClaimTest, AcquiresFreeLeaseIncrementingTransitions) {
  LeaseRecord released = Foreign("", 4);
  released.lease_duration_seconds = 1;
  store_.Put(released);
  auto a = Claim("a");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), 5);
  EXPECT_EQ(store_.Peek()->record.lease_transitions, 5);
}

TEST_F(LeaseClaimTest, WaitsWhileAnotherHolderIsValidThenTakesOver) {
  store_.Put(Foreign("b", 2));
  auto a = Claim("a");
  auto r = a->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(a->ObservedHolder(), "b");
  EXPECT_FALSE(a->Held());
  EXPECT_EQ(a->FencingToken(), std::nullopt);
  clock_.Advance(14999ms);
  EXPECT_FALSE(*a->TryAcquireOrRenew());
  clock_.Advance(1ms);  // 15 s after we first saw b's record
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), 3);
  auto stored = store_.Peek()->record;
  EXPECT_EQ(stored.holder_identity, "a");
  EXPECT_EQ(stored.lease_transitions, 3);
  EXPECT_EQ(stored.acquire_time, clock_.WallNow());
}

TEST_F(LeaseClaimTest, ExpiryIsMeasuredFromObservationNotRemoteTimestamps) {
  // b's clock runs an hour behind ours: by its renewTime the lease looks
  // long expired, yet it is fresh; it must be respected for 15 s from when
  // we saw it.
  LeaseRecord stale_looking = Foreign("b");
  stale_looking.renew_time = clock_.WallNow() - 1h;
  stale_looking.acquire_time = clock_.WallNow() - 1h;
  store_.Put(stale_looking);
  auto a = Claim("a");
  EXPECT_FALSE(*a->TryAcquireOrRenew());
  clock_.Advance(10s);
  EXPECT_FALSE(*a->TryAcquireOrRenew());

  // b renews (record changes) with a clock an hour ahead: the observation
  // restarts now; the future renewTime does not extend it.
  LeaseRecord renewed = stale_looking;
  renewed.renew_time = clock_.WallNow() + 1h;
  store_.Put(renewed);
  EXPECT_FALSE(*a->TryAcquireOrRenew());
  clock_.Advance(14s);
  EXPECT_FALSE(*a->TryAcquireOrRenew());
  clock_.Advance(1s);
  EXPECT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), 1);
}

TEST_F(LeaseClaimTest, RenewUsesCachedRecordAndKeepsTenure) {
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  ASSERT_TRUE(*a->TryAcquireOrRenew());  // Get (NotFound) + Create
  const auto acquired = store_.Peek()->record.acquire_time;
  const int calls = lock->calls();
  clock_.Advance(2s);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(lock->calls(), calls + 1);  // one optimistic Update, no Get
  auto stored = store_.Peek()->record;
  EXPECT_EQ(stored.acquire_time, acquired);
  EXPECT_EQ(stored.renew_time, clock_.WallNow());
  EXPECT_EQ(stored.lease_transitions, 0);
  EXPECT_EQ(a->HeldUntil(), clock_.Now() + 10s);
}

TEST_F(LeaseClaimTest, ConcurrentTakeoverLosesWithConflict) {
  store_.Put(Foreign("c", 7));
  bool armed = false;
  auto b = Claim("b");
  auto lock = std::make_unique<RacingLock>(&store_, nullptr);
  RacingLock* raw = lock.get();
  auto a = std::move(LeaseClaim::New(std::move(lock), "a", {}, &clock_)).value();
  EXPECT_FALSE(*a->TryAcquireOrRenew());  // a observes c
  EXPECT_FALSE(*b->TryAcquireOrRenew());  // b observes c
  clock_.Advance(15s);
  // Between a's Get (expired c) and a's Update, b takes over.
  raw->Arm([&] {
    armed = true;
    ASSERT_TRUE(*b->TryAcquireOrRenew());
  });
  auto r = a->TryAcquireOrRenew();
  EXPECT_TRUE(armed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_FALSE(a->Held());
  EXPECT_TRUE(b->Held());
  EXPECT_EQ(b->FencingToken(), 8);
  EXPECT_EQ(store_.Peek()->record.holder_identity, "b");
}

TEST_F(LeaseClaimTest, HeldEndsAtRenewDeadlineWithoutRenewal) {
  auto a = Claim("a");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  clock_.Advance(9999ms);
  EXPECT_TRUE(a->Held());
  clock_.Advance(1ms);
  EXPECT_FALSE(a->Held());
  EXPECT_EQ(a->FencingToken(), std::nullopt);
}

TEST_F(LeaseClaimTest, HungRequestCannotOutliveRenewDeadline) {
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  const auto deadline = clock_.Now() + 10s;
  clock_.Advance(2s);
  lock->SetHung(true);
  StatusOr<bool> result = false;
  std::thread renew([&] { result = a->TryAcquireOrRenew(); });
  // The optimistic Update gets max(RenewDeadline/2, 1s) = 5 s.
  ASSERT_TRUE(Eventually([&] { return lock->hanging() == 1; }));
  EXPECT_EQ(lock->last_timeout(), 5s);
  EXPECT_TRUE(a->Held());
  clock_.Advance(5s);
  // The fallback Get gets only the 3 s left before the deadline.
  ASSERT_TRUE(Eventually([&] { return lock->hanging() == 1 && lock->last_timeout() == 3s; }));
  clock_.Advance(3s);
  EXPECT_EQ(clock_.Now(), deadline);
  EXPECT_FALSE(a->Held());  // even if the request were still hanging
  renew.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kTimeout);
  EXPECT_FALSE(a->Held());
}

TEST_F(LeaseClaimTest, LeaderSeesTakeoverAndStopsHolding) {
  auto a = Claim("a");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  store_.Put(Foreign("b", 1));  // a was partitioned and b took over
  auto r = a->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_FALSE(a->Held());
  EXPECT_EQ(a->ObservedHolder(), "b");
}

TEST_F(LeaseClaimTest, ReleaseLetsAnotherAcquireAtOnce) {
  auto a = Claim("a");
  auto b = Claim("b");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_FALSE(*b->TryAcquireOrRenew());
  ASSERT_TRUE(a->Release().ok());
  EXPECT_FALSE(a->Held());
  auto stored = store_.Peek()->record;
  EXPECT_EQ(stored.holder_identity, "");
  EXPECT_EQ(stored.lease_duration_seconds, 1);
  EXPECT_EQ(stored.lease_transitions, 0);
  ASSERT_TRUE(*b->TryAcquireOrRenew());  // no clock advance needed
  EXPECT_EQ(b->FencingToken(), 1);
  EXPECT_TRUE(a->Release().ok());  // not holding: no-op
  EXPECT_EQ(store_.Peek()->record.holder_identity, "b");
}

TEST_F(LeaseClaimTest, ErrorsCarryCodeAndLeaseName) {
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  lock->FailNext(ForbiddenError("leases is forbidden"));
  auto r = a->TryAcquireOrRenew();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kForbidden);
  EXPECT_NE(r.status().message().find("ns/db-lock"), std::string::npos);
  EXPECT_EQ(a->NextAttemptAt(), clock_.Now() + 2s);
}

TEST_F(LeaseClaimTest, ManyNamedLocksAreIndependent) {
  FakeLeaseStore other(&clock_);
  auto a1 = Claim("a");
  auto a2 = std::move(LeaseClaim::New(std::make_unique<FakeLeaseLock>(&other, "ns/db2"), "a", {},
                                      &clock_))
                .value();
  auto b2 = std::move(LeaseClaim::New(std::make_unique<FakeLeaseLock>(&other, "ns/db2"), "b", {},
                                      &clock_))
                .value();
  ASSERT_TRUE(*b2->TryAcquireOrRenew());
  EXPECT_TRUE(*a1->TryAcquireOrRenew());
  EXPECT_FALSE(*a2->TryAcquireOrRenew());
  EXPECT_TRUE(a1->Held());
  EXPECT_FALSE(a2->Held());
}

}  // namespace
}  // namespace sg::kube
