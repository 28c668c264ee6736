#include "kube/lease/lease_claim.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "kube/lease/fake_lease_lock.h"
#include "kube/lease/lease_test_util.h"

namespace sg::kube {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

// Wraps a lock and runs a hook between a Get (or a Create) and the next
// write, to interleave a competing writer deterministically.
class RacingLock final : public LeaseLock {
 public:
  RacingLock(FakeLeaseStore* store, std::function<void()> after_get)
      : inner_(store, "ns/db-lock"), after_get_(std::move(after_get)) {}
  StatusOr<ObservedLease> Get(Clock::Duration t) override {
    auto r = inner_.Get(t);
    if (after_get_) std::exchange(after_get_, nullptr)();
    return r;
  }
  StatusOr<ObservedLease> Create(const LeaseRecord& r, Clock::Duration t) override {
    auto created = inner_.Create(r, t);
    if (after_create_) std::exchange(after_create_, nullptr)();
    return created;
  }
  StatusOr<ObservedLease> Update(const std::string& rv, const LeaseRecord& r,
                                 Clock::Duration t) override {
    return inner_.Update(rv, r, t);
  }
  std::string Describe() const override { return inner_.Describe(); }
  void Arm(std::function<void()> after_get) { after_get_ = std::move(after_get); }
  void ArmAfterCreate(std::function<void()> fn) { after_create_ = std::move(fn); }

 private:
  FakeLeaseLock inner_;
  std::function<void()> after_get_;
  std::function<void()> after_create_;
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

  // The token the claim reports now; fails the test if it has none.
  static int64_t TokenOf(const LeaseClaim& c) {
    auto t = c.FencingToken();
    EXPECT_TRUE(t.has_value()) << "no fencing token";
    return t ? static_cast<int64_t>(*t) : -1;
  }
  // The stored record's token annotation, -1 if absent.
  int64_t StoredToken() const {
    auto l = store_.Peek();
    return l && l->record.fencing_token ? *l->record.fencing_token : -1;
  }
  int64_t StoredVersion() const { return std::stoll(store_.Peek()->resource_version); }

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

TEST_F(LeaseClaimTest, AcquiresAbsentLeaseByCreatingItFreeThenTakingItOver) {
  auto a = Claim("a");
  EXPECT_FALSE(a->Held());
  auto r = a->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_TRUE(a->Held());
  // Created free (version 1), then taken over by an Update based on it: the
  // first holder's token is 1 + 1, never 0 ("no fencing" downstream).
  EXPECT_EQ(store_.writes(), 2);
  EXPECT_EQ(a->FencingToken(), 2);
  EXPECT_EQ(StoredToken(), 2);
  EXPECT_EQ(StoredVersion(), 2);
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
  store_.Put(released);  // version 1
  auto a = Claim("a");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), 2);
  EXPECT_EQ(a->ObservedTransitions(), 5);
  EXPECT_EQ(store_.Peek()->record.lease_transitions, 5);
}

TEST_F(LeaseClaimTest, WaitsWhileAnotherHolderIsValidThenTakesOver) {
  store_.Put(Foreign("b", 2));  // version 1
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
  EXPECT_EQ(a->FencingToken(), 2);
  auto stored = store_.Peek()->record;
  EXPECT_EQ(stored.holder_identity, "a");
  EXPECT_EQ(stored.lease_transitions, 3);
  EXPECT_EQ(stored.fencing_token, 2);
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
  EXPECT_EQ(a->FencingToken(), 3);  // based on b's renewal, version 2
}

TEST_F(LeaseClaimTest, RenewUsesCachedRecordAndKeepsTenure) {
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  ASSERT_TRUE(*a->TryAcquireOrRenew());  // Get (NotFound) + Create + Update
  const auto acquired = store_.Peek()->record.acquire_time;
  const int transitions = store_.Peek()->record.lease_transitions;
  const int64_t token = TokenOf(*a);
  const int calls = lock->calls();
  clock_.Advance(2s);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(lock->calls(), calls + 1);  // one optimistic Update, no Get
  auto stored = store_.Peek()->record;
  EXPECT_EQ(stored.acquire_time, acquired);
  EXPECT_EQ(stored.renew_time, clock_.WallNow());
  EXPECT_EQ(stored.lease_transitions, transitions);
  EXPECT_EQ(stored.fencing_token, token);
  EXPECT_EQ(a->FencingToken(), token);
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
  EXPECT_EQ(b->FencingToken(), 2);  // based on c's version 1
  EXPECT_EQ(store_.Peek()->record.lease_transitions, 8);
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
  const int64_t a_token = TokenOf(*a);
  const int transitions = store_.Peek()->record.lease_transitions;
  EXPECT_FALSE(*b->TryAcquireOrRenew());
  ASSERT_TRUE(a->Release().ok());
  EXPECT_FALSE(a->Held());
  EXPECT_EQ(a->FencingToken(), std::nullopt);
  auto stored = store_.Peek()->record;
  EXPECT_EQ(stored.holder_identity, "");
  EXPECT_EQ(stored.lease_duration_seconds, 1);
  EXPECT_EQ(stored.lease_transitions, transitions);
  ASSERT_TRUE(*b->TryAcquireOrRenew());  // no clock advance needed
  EXPECT_GT(TokenOf(*b), a_token);
  EXPECT_EQ(store_.Peek()->record.lease_transitions, transitions + 1);
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

// --- Fencing tokens derived from resourceVersions -------------------------

TEST_F(LeaseClaimTest, TokenGrowsWithEveryChangeOfHolderAndStaysWhileRenewing) {
  auto a = Claim("a");
  auto b = Claim("b");
  std::vector<int64_t> tokens;
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  tokens.push_back(TokenOf(*a));
  EXPECT_GE(tokens.back(), 1);
  for (int i = 0; i < 3; ++i) {  // renewals keep the token, in the claim and stored
    clock_.Advance(2s);
    ASSERT_TRUE(*a->TryAcquireOrRenew());
    EXPECT_EQ(TokenOf(*a), tokens.back());
    EXPECT_EQ(StoredToken(), tokens.back());
  }
  EXPECT_GT(StoredVersion(), tokens.back());  // renewals moved the version on

  // a stops renewing; b takes over 15 s after it last saw a change.
  EXPECT_FALSE(*b->TryAcquireOrRenew());
  clock_.Advance(15s);
  ASSERT_TRUE(*b->TryAcquireOrRenew());
  tokens.push_back(TokenOf(*b));
  EXPECT_EQ(StoredToken(), tokens.back());

  // b releases; a acquires at once.
  ASSERT_TRUE(b->Release().ok());
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  tokens.push_back(TokenOf(*a));
  EXPECT_EQ(StoredToken(), tokens.back());

  // a releases and re-acquires itself: a new tenure, a new token.
  ASSERT_TRUE(a->Release().ok());
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  tokens.push_back(TokenOf(*a));
  for (size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_GT(tokens[i], tokens[i - 1]) << "tenure " << i;
  }
}

TEST_F(LeaseClaimTest, DeletedAndRecreatedLeaseGivesAGreaterToken) {
  auto a = Claim("a");
  auto b = Claim("b");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_FALSE(*b->TryAcquireOrRenew());
  clock_.Advance(15s);
  ASSERT_TRUE(*b->TryAcquireOrRenew());
  const int64_t before = TokenOf(*b);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(2s);
    ASSERT_TRUE(*b->TryAcquireOrRenew());
  }
  // Someone deletes the Lease (its leaseTransitions restart from 0); a
  // recreates it. a's cached record is stale; its step must still work.
  ASSERT_TRUE(store_.Delete());
  clock_.Advance(15s);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_GT(TokenOf(*a), before);
  EXPECT_EQ(StoredToken(), TokenOf(*a));
  // And b, still believing it leads, loses its renewal (the recreated Lease
  // names a) rather than resuming with its old token.
  auto r = b->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_EQ(b->FencingToken(), std::nullopt);
}

TEST_F(LeaseClaimTest, HolderDeletingItsOwnLeaseGetsAGreaterTokenOnRecreate) {
  auto a = Claim("a");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  const int64_t before = TokenOf(*a);
  ASSERT_TRUE(store_.Delete());
  clock_.Advance(2s);
  // Fast path (Update: NotFound) -> Get (NotFound) -> create free -> take over.
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_GT(TokenOf(*a), before);
}

TEST_F(LeaseClaimTest, HeldLeaseWithoutTokenGetsOneOnTheNextRenewal) {
  // Written by an operator version that did not fence: held by our
  // identity (database holders are deterministic), no annotation.
  LeaseRecord legacy = Foreign("a", 3);
  const int64_t rv = std::stoll(store_.Put(legacy));
  auto a = Claim("a");
  EXPECT_EQ(a->FencingToken(), std::nullopt);
  ASSERT_TRUE(*a->TryAcquireOrRenew());  // a renewal: the record names us
  EXPECT_EQ(a->FencingToken(), rv + 1);
  EXPECT_EQ(StoredToken(), rv + 1);
  EXPECT_EQ(store_.Peek()->record.lease_transitions, 3);  // same tenure

  // The old version renews once more (rolling upgrade) and drops the
  // annotation: the next renewal writes a new, greater token.
  LeaseRecord dropped = store_.Peek()->record;
  dropped.fencing_token.reset();
  const int64_t rv2 = std::stoll(store_.Put(dropped));
  clock_.Advance(2s);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), rv2 + 1);
  EXPECT_EQ(StoredToken(), rv2 + 1);
  clock_.Advance(2s);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), rv2 + 1);
}

TEST_F(LeaseClaimTest, TakeoverTokenExceedsARecordedTokenAboveTheVersion) {
  // A token that is not below the version can only come from elsewhere (a
  // restored backup): the next holder still gets a greater one.
  LeaseRecord restored = Foreign("", 0);
  restored.lease_duration_seconds = 1;
  restored.fencing_token = 1000;
  store_.Put(restored);  // version 1
  auto a = Claim("a");
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->FencingToken(), 1001);
}

TEST_F(LeaseClaimTest, ResourceVersionThatIsNotAPositiveIntegerIsAnError) {
  for (const std::string bad : {"abc", "", "0", "-4", "12a", "99999999999999999999"}) {
    FakeLeaseStore store(&clock_);
    store.Put(Foreign("", 0), bad);  // free: a would take it over
    auto a = std::move(LeaseClaim::New(std::make_unique<FakeLeaseLock>(&store, "ns/db-lock"), "a",
                                       {}, &clock_))
                 .value();
    const int writes = store.writes();
    auto r = a->TryAcquireOrRenew();
    ASSERT_FALSE(r.ok()) << "resourceVersion \"" << bad << "\"";
    EXPECT_EQ(r.status().code(), Code::kInternal) << r.status();
    EXPECT_NE(r.status().message().find("ns/db-lock"), std::string::npos) << r.status();
    EXPECT_FALSE(a->Held());
    EXPECT_EQ(a->FencingToken(), std::nullopt);
    EXPECT_EQ(store.writes(), writes) << "nothing written for \"" << bad << "\"";
  }
  // Also when renewing a held Lease that has no token yet.
  FakeLeaseStore store(&clock_);
  store.Put(Foreign("a", 0), "v7");
  auto a = std::move(LeaseClaim::New(std::make_unique<FakeLeaseLock>(&store, "ns/db-lock"), "a", {},
                                     &clock_))
               .value();
  auto r = a->TryAcquireOrRenew();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
  EXPECT_EQ(a->FencingToken(), std::nullopt);
}

TEST_F(LeaseClaimTest, CreateRaceAlreadyExistsReadsTheWinnersLease) {
  auto b = Claim("b");
  auto lock = std::make_unique<RacingLock>(&store_, nullptr);
  RacingLock* raw = lock.get();
  auto a = std::move(LeaseClaim::New(std::move(lock), "a", {}, &clock_)).value();
  // Between a's Get (NotFound) and a's Create, b creates and takes it.
  raw->Arm([&] { ASSERT_TRUE(*b->TryAcquireOrRenew()); });
  auto r = a->TryAcquireOrRenew();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);  // b's lease is valid: not ours, and no error
  EXPECT_EQ(a->ObservedHolder(), "b");
  EXPECT_TRUE(b->Held());
}

TEST_F(LeaseClaimTest, TakeoverOfTheCreatedLeaseCanLoseWithConflict) {
  auto b = Claim("b");
  auto lock = std::make_unique<RacingLock>(&store_, nullptr);
  RacingLock* raw = lock.get();
  auto a = std::move(LeaseClaim::New(std::move(lock), "a", {}, &clock_)).value();
  // a created the free Lease; b takes it over before a's Update.
  raw->ArmAfterCreate([&] { ASSERT_TRUE(*b->TryAcquireOrRenew()); });
  auto r = a->TryAcquireOrRenew();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_FALSE(a->Held());
  EXPECT_TRUE(b->Held());
  EXPECT_GE(TokenOf(*b), 2);
}

// --- A step that starts while held is bounded by the held-until time -------

TEST_F(LeaseClaimTest, RenewStartedJustBeforeTheDeadlineEndsByIt) {
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  const auto held_until = a->HeldUntil();
  clock_.Advance(9900ms);
  lock->SetHung(true);
  std::atomic<bool> done{false};
  StatusOr<bool> result = false;
  std::thread renew([&] {
    result = a->TryAcquireOrRenew();
    done = true;
  });
  // The optimistic Update gets only what is left of the tenure.
  ASSERT_TRUE(Eventually([&] { return lock->hanging() == 1; }));
  EXPECT_EQ(lock->last_timeout(), 100ms);
  const int fast_calls = lock->calls();
  clock_.Advance(100ms);
  EXPECT_EQ(clock_.Now(), held_until);
  // Nothing is left: the step ends without sending the fallback Get (which
  // used to get the full 5 s, then the Update 5 s more).
  EXPECT_TRUE(Eventually(
      [&] { return done.load() || (lock->calls() > fast_calls && lock->hanging() == 1); }));
  const bool ended_at_deadline = done.load();
  const int calls = lock->calls();
  while (!done) {  // the old behaviour: let it finish to report it
    if (clock_.waiters() > 0) clock_.Advance(500ms);
    std::this_thread::sleep_for(1ms);
  }
  renew.join();
  EXPECT_TRUE(ended_at_deadline) << "the step outlived the held-until time";
  EXPECT_EQ(calls, fast_calls);
  EXPECT_EQ(clock_.Now(), held_until);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kTimeout);
  EXPECT_FALSE(a->Held());
}

TEST_F(LeaseClaimTest, SlowFallbackGetLeavesTheUpdateOnlyTheRest) {
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  const auto held_until = a->HeldUntil();
  clock_.Advance(4s);
  // 6 s left: the fast path fails at once, the Get takes 4 s, so the Update
  // gets the 2 s left.
  lock->FailNext(UnavailableError("connection reset"));
  lock->DelayNext(4s);
  lock->DelayNext(Clock::Duration::max());
  StatusOr<bool> result = false;
  std::thread renew([&] { result = a->TryAcquireOrRenew(); });
  ASSERT_TRUE(Eventually([&] { return lock->hanging() == 1; }));
  EXPECT_EQ(lock->last_timeout(), 5s);  // the Get: the base timeout
  clock_.Advance(4s);
  ASSERT_TRUE(Eventually([&] { return lock->hanging() == 1 && lock->last_timeout() == 2s; }));
  clock_.Advance(2s);
  renew.join();
  EXPECT_EQ(clock_.Now(), held_until);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kTimeout);
}

TEST_F(LeaseClaimTest, StepAfterHeldLapsedMayStillResumeTheTenure) {
  // Held() lapsed (no renewal for 11 s) but the lease (15 s) has not
  // expired for anyone else: the step is an attempt like an acquire, with
  // the full timeout, and success resumes the tenure with its token.
  FakeLeaseLock* lock = nullptr;
  auto a = Claim("a", &lock);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  const int64_t token = TokenOf(*a);
  clock_.Advance(11s);
  EXPECT_FALSE(a->Held());
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(lock->last_timeout(), 5s);
  EXPECT_TRUE(a->Held());
  EXPECT_EQ(a->FencingToken(), token);
}

TEST_F(LeaseClaimTest, RenewedAtIsTheStartOfTheLastSuccessWhileTheRecordNamesUs) {
  auto a = Claim("a");
  auto b = Claim("b");
  EXPECT_EQ(a->RenewedAt(), std::nullopt);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->RenewedAt(), clock_.Now());
  clock_.Advance(2s);
  ASSERT_TRUE(*a->TryAcquireOrRenew());
  const auto renewed = clock_.Now();
  EXPECT_FALSE(*b->TryAcquireOrRenew());  // b sees a's renewal
  clock_.Advance(20s);                    // no renewal: it stays put, Held() or not
  EXPECT_FALSE(a->Held());
  EXPECT_EQ(a->RenewedAt(), renewed);
  ASSERT_TRUE(*b->TryAcquireOrRenew());  // expired for b: taken over
  EXPECT_EQ(a->RenewedAt(), renewed);    // a has not looked yet
  EXPECT_FALSE(*a->TryAcquireOrRenew());
  EXPECT_EQ(a->RenewedAt(), std::nullopt);
  ASSERT_TRUE(b->Release().ok());
  EXPECT_EQ(b->RenewedAt(), std::nullopt);
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
