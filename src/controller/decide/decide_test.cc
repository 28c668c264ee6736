// The decision table of docs/controller.md, driven through Decide() with a
// FakeClock's wall time: no cluster, no threads.
#include "controller/decide/decide.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace sg::controller {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class DecideTest : public ::testing::Test {
 protected:
  DecideTest() {
    in_.meta.ns = "shop";
    in_.meta.name = "accounts";
    in_.meta.uid = "uid-1";
    in_.meta.generation = 1;
    in_.spec = ParseSpec(
        json::parse(R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["m"]}})"));
    SourceInfo src;
    src.config_maps = {"m"};
    src.checksum = "sum1";
    src.versions = {1, 2, 3};
    in_.source = src;
    in_.identity = "shop/db/url";
    in_.lease_name = "sg-db-x";
    in_.holder_identity = "shop/accounts/uid-1";
    in_.now = clock_.WallNow();
    in_.default_image = "schemagate:dev";
  }

  // Runs both passes as the reconciler does: lease stepped when wanted.
  Decision Run(bool lease_held = true, const std::string& other_holder = "") {
    in_.lease = {};
    Decision d = Decide(in_);
    if (!d.want_lease) return d;
    in_.lease.tried = true;
    in_.lease.held = lease_held;
    in_.lease.holder = lease_held ? in_.holder_identity : other_holder;
    in_.lease.fencing_token = 9;
    return Decide(in_);
  }
  // Stores the decision's status as the API server would.
  void Store(const Decision& d) { in_.status = d.status; }
  std::string Desired() const { return JobName(in_.meta, "sum1", 3, in_.status.attempt); }
  JobOutcome Job(const std::string& name, JobPhase phase, std::optional<int> code = {},
                 json runner = nullptr) {
    JobOutcome j;
    j.name = name;
    j.phase = phase;
    j.exit_code = code;
    j.runner = runner;
    j.start_time = "2024-01-01T00:00:00Z";
    return j;
  }
  const Condition& Cond(const Decision& d, const char* type) { return *d.status.Find(type); }

  FakeClock clock_;
  Observed in_;
};

TEST_F(DecideTest, FirstSightCreatesJobUnderLeaseWithConditionsSet) {
  Decision d = Run();
  ASSERT_TRUE(d.create_job);
  EXPECT_EQ(d.create_job->name, Desired());
  EXPECT_EQ(d.create_job->fence_token, 9);
  EXPECT_EQ(d.create_job->target, 3);
  EXPECT_EQ(d.status.observed_generation, 1);
  EXPECT_EQ(Cond(d, kReady).status, "False");
  EXPECT_EQ(Cond(d, kReconciling).status, "True");
  EXPECT_EQ(Cond(d, kStalled).status, "False");
  EXPECT_EQ(d.status.target_version, 3);
  EXPECT_EQ(d.status.pending_count, 3);
  EXPECT_EQ(d.status.database.lease_name, "sg-db-x");
  EXPECT_TRUE(d.requeue_after);
}

TEST_F(DecideTest, NoJobWithoutTheLease) {
  Decision d = Run(false, "other/sm/uid-2");
  EXPECT_FALSE(d.create_job);
  EXPECT_EQ(Cond(d, kReconciling).reason, "WaitingForLease");
  EXPECT_NE(Cond(d, kReconciling).message.find("other/sm/uid-2"), std::string::npos);
  EXPECT_EQ(d.status.database.lease_holder, "other/sm/uid-2");
  // The first pass alone never creates a Job.
  in_.lease = {};
  EXPECT_FALSE(Decide(in_).create_job);
}

TEST_F(DecideTest, RunningJobRenewsLeaseAndSucceedsToReady) {
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Decision running = Run();
  EXPECT_TRUE(running.want_lease);
  EXPECT_FALSE(running.create_job);  // adopted, never duplicated
  EXPECT_EQ(Cond(running, kReconciling).reason, "JobRunning");
  EXPECT_EQ(running.status.last_job->result, "Running");
  Store(running);

  in_.jobs = {Job(Desired(), JobPhase::kSucceeded, 0,
                  json::parse(R"({"ok":true,"current_version":3,"applied":[{},{},{}]})"))};
  Decision done = Run();
  EXPECT_EQ(Cond(done, kReady).status, "True");
  EXPECT_EQ(Cond(done, kReady).reason, "Succeeded");
  EXPECT_EQ(Cond(done, kReconciling).status, "False");
  EXPECT_EQ(done.status.applied_version, 3);
  EXPECT_EQ(done.status.pending_count, 0);
  EXPECT_EQ(done.status.last_job->result, "Succeeded");
  EXPECT_TRUE(done.release_lease);
  EXPECT_FALSE(done.requeue_after);
  ASSERT_EQ(done.events.size(), 1u);
  Store(done);

  // The Job was deleted by its TTL: still Ready, nothing to do, idempotent.
  in_.jobs.clear();
  Decision later = Run();
  EXPECT_EQ(Cond(later, kReady).status, "True");
  EXPECT_FALSE(later.create_job);
  EXPECT_FALSE(later.want_lease);
  EXPECT_TRUE(later.events.empty());
  EXPECT_EQ(later.status, done.status);
}

TEST_F(DecideTest, ReadyFlipsFalseOnSourceChangeBeforeAnyJob) {
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kSucceeded, 0, json::parse(R"({"current_version":3})"))};
  Store(Run());
  ASSERT_TRUE(in_.status.Is(kReady));
  SourceInfo changed = *in_.source;
  changed.checksum = "sum2";
  changed.versions = {1, 2, 3, 4};
  in_.source = changed;
  in_.lease = {};
  Decision first_pass = Decide(in_);  // before the Lease is even tried
  EXPECT_EQ(Cond(first_pass, kReady).status, "False");
  EXPECT_EQ(first_pass.status.target_version, 4);
  EXPECT_EQ(first_pass.status.pending_count, 1);
  EXPECT_EQ(first_pass.status.source_checksum, "sum2");
}

TEST_F(DecideTest, NewGenerationResetsRetries) {
  in_.status.attempt = 3;
  in_.status.failures = 3;
  in_.status.observed_generation = 1;
  in_.status.source_checksum = "sum1";
  in_.status.Set(kStalled, true, "MigrationFailed", "x", 1, "t");
  in_.meta.generation = 2;
  Decision d = Run();
  EXPECT_EQ(d.status.attempt, 0);
  EXPECT_EQ(d.status.failures, 0);
  ASSERT_TRUE(d.create_job);
  EXPECT_EQ(Cond(d, kStalled).status, "False");
}

TEST_F(DecideTest, TerminalFailureStallsWithFileVersionSqlstate) {
  Store(Run());
  json runner = json::parse(R"({"ok":false,"exit_code":3,"current_version":1,
      "error":{"reason":"MigrationFailed","message":"relation \"x\" does not exist",
               "file":"0002_b.up.sql","version":2,"sqlstate":"42P01"}})");
  in_.jobs = {Job(Desired(), JobPhase::kFailed, 3, runner)};
  Decision d = Run();
  EXPECT_EQ(Cond(d, kStalled).status, "True");
  EXPECT_EQ(Cond(d, kStalled).reason, "MigrationFailed");
  EXPECT_EQ(Cond(d, kReconciling).status, "False");
  EXPECT_EQ(Cond(d, kReady).status, "False");
  const std::string& m = Cond(d, kStalled).message;
  EXPECT_NE(m.find("0002_b.up.sql"), std::string::npos) << m;
  EXPECT_NE(m.find("version 2"), std::string::npos) << m;
  EXPECT_NE(m.find("42P01"), std::string::npos) << m;
  EXPECT_EQ(d.status.applied_version, 1);
  EXPECT_EQ(d.status.last_job->exit_code, 3);
  EXPECT_FALSE(d.requeue_after);
  EXPECT_FALSE(d.create_job);
  EXPECT_TRUE(d.release_lease);
  Store(d);

  // Stalled stays Stalled (no retry) even after the Job is gone.
  in_.jobs.clear();
  Decision again = Run();
  EXPECT_EQ(Cond(again, kStalled).status, "True");
  EXPECT_EQ(Cond(again, kStalled).reason, "MigrationFailed");
  EXPECT_FALSE(again.create_job);
  EXPECT_TRUE(again.events.empty());

  // A new retry annotation value starts exactly one new attempt.
  in_.meta.annotations[kRetryAnnotation] = "1";
  in_.jobs = {Job(Desired(), JobPhase::kFailed, 3, runner)};
  Decision retry = Run();
  ASSERT_TRUE(retry.create_job);
  EXPECT_NE(retry.create_job->name, Desired());
  EXPECT_EQ(retry.status.retry_handled, "1");
  EXPECT_EQ(retry.status.attempt, 1);
  Store(retry);
  Decision same = Run();  // same annotation value: nothing new
  EXPECT_EQ(same.status.attempt, 1);
}

TEST_F(DecideTest, FixedSourceAfterStallRecovers) {
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kFailed, 3)};
  Store(Run());
  ASSERT_TRUE(in_.status.Is(kStalled));
  SourceInfo fixed = *in_.source;
  fixed.checksum = "sum-fixed";
  in_.source = fixed;
  Decision d = Run();
  ASSERT_TRUE(d.create_job);
  EXPECT_EQ(Cond(d, kStalled).status, "False");
}

TEST_F(DecideTest, RetryableFailureBacksOffExponentiallyWithNewJobs) {
  Store(Run());
  std::string first = Desired();
  in_.jobs = {Job(
      first, JobPhase::kFailed, 7,
      json::parse(
          R"({"ok":false,"exit_code":7,"error":{"reason":"ConnectionFailed","message":"refused"}})"))};
  Decision d = Run();
  EXPECT_EQ(Cond(d, kReconciling).status, "True");
  EXPECT_EQ(Cond(d, kReconciling).reason, "ConnectionFailed");
  EXPECT_EQ(Cond(d, kStalled).status, "False");
  EXPECT_EQ(d.status.failures, 1);
  EXPECT_EQ(d.status.attempt, 1);
  EXPECT_EQ(d.requeue_after, 10s);
  EXPECT_TRUE(d.release_lease);
  EXPECT_FALSE(d.create_job);
  Store(d);

  // Before the backoff has passed: no Job; the old failed Job is not recounted.
  clock_.Advance(5s);
  in_.now = clock_.WallNow();
  Decision waiting = Run();
  EXPECT_FALSE(waiting.create_job);
  EXPECT_EQ(waiting.status.failures, 1);
  EXPECT_EQ(waiting.requeue_after, 5s);

  clock_.Advance(5s);
  in_.now = clock_.WallNow();
  Decision retry = Run();
  ASSERT_TRUE(retry.create_job);
  EXPECT_NE(retry.create_job->name, first);
  Store(retry);
  in_.jobs.push_back(Job(Desired(), JobPhase::kFailed, 5));
  Decision second = Run();
  EXPECT_EQ(second.status.failures, 2);
  EXPECT_EQ(second.requeue_after, 20s);
  EXPECT_EQ(RetryBackoff(10), 300s);
}

TEST_F(DecideTest, DownNeedsAllowDown) {
  in_.spec = ParseSpec(json::parse(
      R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["m"]},"targetVersion":1})"));
  in_.status.applied_version = 3;
  in_.status.observed_generation = 1;
  in_.status.source_checksum = "sum1";
  in_.status.Set(kReady, true, "Succeeded", "", 1, "t");
  Decision d = Run();
  EXPECT_EQ(Cond(d, kStalled).reason, "DownNotAllowed");
  EXPECT_FALSE(d.create_job);
  in_.spec = ParseSpec(json::parse(R"({"database":{"secretRef":{"name":"db"}},
      "source":{"configMaps":["m"]},"targetVersion":1,"allowDown":true})"));
  Decision down = Run();
  ASSERT_TRUE(down.create_job);
  EXPECT_TRUE(down.create_job->down);
  EXPECT_EQ(down.create_job->target, 1);
}

TEST_F(DecideTest, InvalidSpecAndMissingSourceStall) {
  in_.spec = InvalidError("spec.database: required");
  Decision d = Run();
  EXPECT_EQ(Cond(d, kStalled).reason, "InvalidSpec");
  EXPECT_EQ(Cond(d, kStalled).message, "spec.database: required");
  in_.spec = ParseSpec(
      json::parse(R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["m"]}})"));
  in_.source = NotFoundError("ConfigMap \"m\" not found");
  Decision s = Run();
  EXPECT_EQ(Cond(s, kStalled).reason, "SourceNotFound");
  EXPECT_EQ(Cond(s, kReady).status, "False");
}

TEST_F(DecideTest, SuspendStartsNothing) {
  in_.spec = ParseSpec(json::parse(
      R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["m"]},"suspend":true})"));
  Decision d = Run();
  EXPECT_FALSE(d.create_job);
  EXPECT_FALSE(d.want_lease);
  EXPECT_EQ(Cond(d, kReady).reason, "Suspended");
  EXPECT_EQ(Cond(d, kReconciling).status, "False");
}

TEST_F(DecideTest, EarlierGenerationJobStillRunningIsWaitedFor) {
  in_.jobs = {Job("accounts-old", JobPhase::kActive)};
  Decision d = Run();
  EXPECT_FALSE(d.create_job);
  EXPECT_TRUE(d.want_lease);
  EXPECT_EQ(Cond(d, kReconciling).reason, "WaitingForPreviousJob");
}

TEST_F(DecideTest, VanishedRunningJobIsRetried) {
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Store(Run());
  in_.jobs.clear();
  Decision d = Run();
  EXPECT_EQ(Cond(d, kReconciling).reason, "JobLost");
  EXPECT_EQ(d.status.failures, 1);
}

// --- Finalizer: present exactly while the Lease is wanted ---

TEST_F(DecideTest, FinalizerAddedBeforeTheLeaseIsTriedAndRemovedWhenDone) {
  in_.lease = {};
  Decision first = Decide(in_);  // pass 1: before the Lease step
  EXPECT_TRUE(first.want_lease);
  EXPECT_EQ(first.finalizer, FinalizerAction::kAdd);
  in_.meta.finalizers = {kFinalizer};
  Decision d = Run();
  EXPECT_EQ(d.finalizer, FinalizerAction::kNone);  // already there
  ASSERT_TRUE(d.create_job);
  Store(d);

  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Decision running = Run();
  EXPECT_EQ(running.finalizer, FinalizerAction::kNone);
  Store(running);

  in_.jobs = {Job(Desired(), JobPhase::kSucceeded, 0, json::parse(R"({"current_version":3})"))};
  Decision done = Run();
  EXPECT_TRUE(done.release_lease);
  EXPECT_EQ(done.finalizer, FinalizerAction::kRemove);
  Store(done);
  in_.meta.finalizers.clear();
  Decision idle = Run();
  EXPECT_EQ(idle.finalizer, FinalizerAction::kNone);
  EXPECT_FALSE(idle.release_lease);
}

TEST_F(DecideTest, FinalizerKeptWhileWaitingForTheLease) {
  in_.meta.finalizers = {kFinalizer};
  Decision d = Run(false, "other/sm/uid-2");
  EXPECT_EQ(Cond(d, kReconciling).reason, "WaitingForLease");
  EXPECT_EQ(d.finalizer, FinalizerAction::kNone);
  EXPECT_FALSE(d.release_lease);
}

TEST_F(DecideTest, NoFinalizerWhenNoLeaseIsWanted) {
  in_.spec = ParseSpec(json::parse(
      R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["m"]},"suspend":true})"));
  EXPECT_EQ(Run().finalizer, FinalizerAction::kNone);
  in_.spec = InvalidError("spec.database: required");
  EXPECT_EQ(Run().finalizer, FinalizerAction::kNone);
  // A stalled object sheds a leftover finalizer (after releasing).
  in_.meta.finalizers = {"other.io/keep", kFinalizer};
  Decision d = Run();
  EXPECT_EQ(d.finalizer, FinalizerAction::kRemove);
  EXPECT_TRUE(d.release_lease);
}

TEST_F(DecideTest, PolicyViolationStallsBeforeAnyJob) {
  in_.spec = ParseSpec(
      json::parse(R"({"database":{"secretRef":{"name":"db"}},"source":{"configMaps":["m"]},)"
                  R"("job":{"serviceAccountName":"cluster-admin-sa"}})"));
  Decision d = Run();
  EXPECT_FALSE(d.create_job);
  EXPECT_FALSE(d.want_lease);
  EXPECT_EQ(Cond(d, kStalled).status, "True");
  EXPECT_EQ(Cond(d, kStalled).reason, "PolicyViolation");
  EXPECT_NE(Cond(d, kStalled).message.find("spec.job.serviceAccountName"), std::string::npos);
  in_.policy.allow_service_account_name = true;
  EXPECT_TRUE(Run().create_job);
}

TEST_F(DecideTest, NoJobWithoutAFencingToken) {
  in_.lease = {};
  Decide(in_);
  in_.lease.tried = true;
  in_.lease.held = true;
  in_.lease.holder = in_.holder_identity;
  in_.lease.fencing_token = 0;
  Decision d = Decide(in_);
  EXPECT_FALSE(d.create_job);
  EXPECT_TRUE(d.want_lease);
  EXPECT_EQ(Cond(d, kReconciling).reason, "WaitingForLease");
}

// Deleted while the runner's pod still runs: stop the Job, keep the Lease
// (renewing) until the pod has terminated, then release and let go.
TEST_F(DecideTest, DeletionStopsTheJobAndHoldsTheLeaseUntilItsPodTerminated) {
  in_.meta.finalizers = {kFinalizer};
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  in_.live_pods = {Desired() + "-abcde"};
  Store(Run());
  in_.meta.deleting = true;
  in_.meta.deletion_timestamp = FormatTime(clock_.WallNow());
  Decision d = Run();
  EXPECT_EQ(d.delete_jobs, std::vector<std::string>{Desired()});
  EXPECT_FALSE(d.release_lease);
  EXPECT_TRUE(d.want_lease);
  EXPECT_EQ(d.finalizer, FinalizerAction::kNone);
  EXPECT_FALSE(d.forget);
  EXPECT_TRUE(d.requeue_after);
  // The pod has terminated (the Job may linger): release, then let go.
  in_.live_pods.clear();
  Decision done = Run();
  EXPECT_TRUE(done.release_lease);
  EXPECT_FALSE(done.want_lease);
  EXPECT_EQ(done.finalizer, FinalizerAction::kRemove);
  EXPECT_TRUE(done.forget);
}

TEST_F(DecideTest, DeletionGivesUpWaitingForAPodAfterTheBound) {
  in_.meta.finalizers = {kFinalizer};
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  in_.live_pods = {Desired() + "-abcde"};
  Store(Run());
  in_.meta.deleting = true;
  in_.meta.deletion_timestamp = FormatTime(clock_.WallNow());
  clock_.Advance(kDeletionPodWait + 1s);
  in_.now = clock_.WallNow();
  Decision d = Run();
  EXPECT_TRUE(d.release_lease);
  EXPECT_EQ(d.finalizer, FinalizerAction::kRemove);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_TRUE(d.events[0].warning);
  EXPECT_NE(d.events[0].message.find(Desired() + "-abcde"), std::string::npos);
}

// The Job vanished (deleted by hand, orphaning its pod): the Lease stays ours
// while the pod runs, so no other SchemaMigration's Job starts beside it.
TEST_F(DecideTest, VanishedJobKeepsTheLeaseWhileItsPodRuns) {
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Store(Run());
  in_.jobs.clear();
  in_.live_pods = {Desired() + "-abcde"};
  Decision d = Run();
  EXPECT_EQ(Cond(d, kReconciling).reason, "JobLost");
  EXPECT_FALSE(d.release_lease);
  EXPECT_TRUE(d.want_lease);
  Store(d);
  in_.live_pods.clear();
  Decision gone = Run();
  EXPECT_TRUE(gone.release_lease);
}

// A Job whose Lease another holder took (we did not renew in time) is
// stopped: its runner is fenced out anyway, and must not keep working.
TEST_F(DecideTest, LeaseLostWhileTheJobRunsDeletesTheJob) {
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Decision d = Run(false, "other/sm/uid-2");
  EXPECT_EQ(d.delete_jobs, std::vector<std::string>{Desired()});
  ASSERT_FALSE(d.events.empty());
  EXPECT_EQ(d.events.back().reason, "LeaseLost");
}

// A Job whose pod cannot start (a missing Secret) says so at once, stalls
// after job_start_timeout, and gives the Lease back; it is retried with the
// backoff, so fixing the Secret recovers without a hand.
TEST_F(DecideTest, PodThatCannotStartSurfacesAtOnceThenStallsAndGivesTheLeaseBack) {
  in_.job_start_timeout = 60s;
  Store(Run());
  JobOutcome waiting = Job(Desired(), JobPhase::kActive);
  waiting.start_time = FormatTime(clock_.WallNow());
  waiting.waiting_reason = "CreateContainerConfigError";
  waiting.waiting_message = "secret \"no-such-secret\" not found";
  waiting.waiting_pod = Desired() + "-abcde";
  in_.jobs = {waiting};
  in_.live_pods = {waiting.waiting_pod};
  Decision d = Run();
  EXPECT_EQ(Cond(d, kReconciling).reason, "CreateContainerConfigError");
  EXPECT_NE(Cond(d, kReconciling).message.find("no-such-secret"), std::string::npos);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_TRUE(d.events[0].warning);
  EXPECT_TRUE(d.delete_jobs.empty());
  Store(d);
  EXPECT_TRUE(Run().events.empty());  // said once

  clock_.Advance(61s);
  in_.now = clock_.WallNow();
  Decision stalled = Run();
  EXPECT_EQ(Cond(stalled, kStalled).status, "True");
  EXPECT_EQ(Cond(stalled, kStalled).reason, "CreateContainerConfigError");
  EXPECT_EQ(stalled.delete_jobs, std::vector<std::string>{Desired()});
  EXPECT_FALSE(stalled.status.next_retry_time.empty());
  Store(stalled);

  // The Job and its pod are gone: the Lease goes back, still Stalled while
  // backing off.
  in_.jobs.clear();
  in_.live_pods.clear();
  Decision backing_off = Run();
  EXPECT_TRUE(backing_off.release_lease);
  EXPECT_FALSE(backing_off.create_job);
  EXPECT_EQ(Cond(backing_off, kStalled).status, "True");
  Store(backing_off);

  // After the backoff: a new attempt.
  clock_.Advance(RetryBackoff(1) + 1s);
  in_.now = clock_.WallNow();
  Decision retry = Run();
  ASSERT_TRUE(retry.create_job);
  EXPECT_NE(retry.create_job->name, waiting.name);
}

TEST_F(DecideTest, DeletionWithoutARunnerPodReleasesAtOnceAndRemovesTheFinalizer) {
  in_.meta.finalizers = {kFinalizer};
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Store(Run());
  ASSERT_EQ(in_.status.database.lease_holder, in_.holder_identity);

  in_.meta.deleting = true;
  Decision d = Run();
  EXPECT_TRUE(d.release_lease);
  EXPECT_FALSE(d.want_lease);  // never renewed for an object going away
  EXPECT_FALSE(d.create_job);
  EXPECT_EQ(d.finalizer, FinalizerAction::kRemove);
  EXPECT_TRUE(d.forget);
  EXPECT_EQ(d.status, in_.status);  // no status write for a deleted object

  // Idempotent: a second pass (e.g. after a failed finalizer patch) decides the same.
  Decision again = Run();
  EXPECT_TRUE(again.release_lease);
  EXPECT_EQ(again.finalizer, FinalizerAction::kRemove);
}

TEST_F(DecideTest, DeletionWhileWaitingOnlyForgets) {
  in_.meta.finalizers = {kFinalizer};
  Store(Run(false, "other/sm/uid-2"));
  in_.meta.deleting = true;
  Decision d = Run();
  // The reconciler releases only a Lease naming us; here it names another.
  EXPECT_EQ(d.finalizer, FinalizerAction::kRemove);
  EXPECT_TRUE(d.forget);
  EXPECT_FALSE(d.want_lease);
  // Gone from our finalizer (foreground deletion keeps the object a while):
  // nothing more, and never a new claim.
  in_.meta.finalizers.clear();
  Decision later = Run();
  EXPECT_EQ(later.finalizer, FinalizerAction::kNone);
  EXPECT_FALSE(later.release_lease);
  EXPECT_FALSE(later.want_lease);
}

// --- Recheck of a Ready object ---

class RecheckTest : public DecideTest {
 protected:
  RecheckTest() { in_.recheck_interval = 10min; }
  void Now() { in_.now = clock_.WallNow(); }
  // Ready at version 3 through one Job that completed at the current time.
  void MakeReady() {
    Store(Run());
    JobOutcome j = Job(Desired(), JobPhase::kSucceeded, 0, json::parse(R"({"current_version":3})"));
    j.completion_time = FormatTime(clock_.WallNow());
    in_.jobs = {j};
    Decision d = Run();
    ASSERT_TRUE(d.status.Is(kReady));
    EXPECT_EQ(d.requeue_after, 10min);  // the recheck is scheduled
    Store(d);
    // The Job stays until its TTL (3600 s), longer than the interval.
  }
};

TEST_F(RecheckTest, NothingBeforeTheInterval) {
  MakeReady();
  clock_.Advance(4min);
  Now();
  Decision d = Run();
  EXPECT_FALSE(d.create_job);
  EXPECT_FALSE(d.want_lease);
  EXPECT_EQ(d.requeue_after, 6min);
  EXPECT_EQ(d.status, in_.status);
  in_.jobs.clear();  // the same once the TTL deleted the Job
  Decision later = Run();
  EXPECT_FALSE(later.create_job);
  EXPECT_EQ(later.requeue_after, 6min);
  EXPECT_EQ(later.status, in_.status);
}

TEST_F(RecheckTest, DueAfterTheJobWasDeletedByItsTtl) {
  MakeReady();
  in_.jobs.clear();
  clock_.Advance(10min);
  Now();
  Decision d = Run();
  ASSERT_TRUE(d.create_job);
  EXPECT_EQ(d.status.attempt, 1);
  EXPECT_TRUE(d.status.Is(kReady));
}

TEST_F(RecheckTest, DueRecheckRunsANewJobWhileReadyStaysTrue) {
  MakeReady();
  const MigrationStatus ready = in_.status;
  const std::string first = in_.status.last_job->name;
  clock_.Advance(10min);
  Now();
  in_.lease = {};
  Decision pass1 = Decide(in_);
  EXPECT_TRUE(pass1.want_lease);
  EXPECT_EQ(pass1.status.conditions, ready.conditions);  // waiters see no change
  Decision d = Run();
  ASSERT_TRUE(d.create_job);
  EXPECT_NE(d.create_job->name, first);
  EXPECT_EQ(d.status.attempt, 1);
  EXPECT_EQ(d.status.conditions, ready.conditions);
  EXPECT_TRUE(d.events.empty());  // quiet
  Store(d);

  // Running: still Ready, Reconciling False; the Lease renewed.
  in_.jobs = {Job(Desired(), JobPhase::kActive)};
  Decision running = Run();
  EXPECT_TRUE(running.want_lease);
  EXPECT_EQ(running.status.conditions, ready.conditions);
  EXPECT_EQ(running.status.last_job->result, "Running");
  Store(running);

  // Waiting for the Lease held by another SchemaMigration: still Ready.
  Decision waiting = Run(false, "other/sm/uid-2");
  EXPECT_EQ(waiting.status.conditions, ready.conditions);

  // A no-op success: Ready, no event, next recheck scheduled from now.
  clock_.Advance(30s);
  Now();
  JobOutcome ok =
      Job(Desired(), JobPhase::kSucceeded, 0, json::parse(R"({"current_version":3,"applied":[]})"));
  ok.completion_time = FormatTime(clock_.WallNow());
  in_.jobs = {ok};
  Decision done = Run();
  EXPECT_TRUE(done.status.Is(kReady));
  EXPECT_FALSE(done.status.Is(kReconciling));
  EXPECT_EQ(done.status.Find(kReady)->last_transition_time,
            ready.Find(kReady)->last_transition_time);
  EXPECT_TRUE(done.events.empty());
  EXPECT_TRUE(done.release_lease);
  EXPECT_EQ(done.requeue_after, 10min);
}

TEST_F(RecheckTest, DriftFoundByARecheckStalls) {
  MakeReady();
  clock_.Advance(11min);
  Now();
  Store(Run());
  json runner = json::parse(R"({"ok":false,"exit_code":4,"current_version":3,
      "error":{"reason":"ChecksumMismatch","message":"0002_b.up.sql changed since it was applied",
               "file":"0002_b.up.sql","version":2}})");
  in_.jobs = {Job(Desired(), JobPhase::kFailed, 4, runner)};
  Decision d = Run();
  EXPECT_EQ(Cond(d, kReady).status, "False");
  EXPECT_EQ(Cond(d, kStalled).status, "True");
  EXPECT_EQ(Cond(d, kStalled).reason, "ChecksumMismatch");
  Store(d);
  // Stalled: no further rechecks.
  clock_.Advance(1h);
  Now();
  EXPECT_FALSE(Run().create_job);
}

TEST_F(RecheckTest, RetryableRecheckFailureKeepsReadyAndBacksOff) {
  MakeReady();
  const auto conditions = in_.status.conditions;
  clock_.Advance(10min);
  Now();
  Store(Run());
  in_.jobs = {Job(Desired(), JobPhase::kFailed, 7,
                  json::parse(R"({"exit_code":7,"error":{"reason":"ConnectionFailed"}})"))};
  Decision d = Run();
  EXPECT_EQ(d.status.conditions, conditions);
  EXPECT_EQ(d.status.failures, 1);
  EXPECT_EQ(d.requeue_after, 10s);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].reason, "RecheckFailed");
  Store(d);
  clock_.Advance(10s);
  Now();
  Decision retry = Run();
  ASSERT_TRUE(retry.create_job);
  EXPECT_EQ(retry.status.conditions, conditions);
}

TEST_F(RecheckTest, DisabledOrSuspendedNeverRechecks) {
  MakeReady();
  clock_.Advance(1h);
  Now();
  in_.recheck_interval = 0s;
  Decision d = Run();
  EXPECT_FALSE(d.create_job);
  EXPECT_FALSE(d.requeue_after);
}

TEST(RecheckDueTest, FromCompletionElseStartElseReady) {
  MigrationStatus s;
  EXPECT_FALSE(RecheckDue(s, 10min));
  s.Set(kReady, true, "Succeeded", "", 1, "2024-01-01T00:00:00Z");
  EXPECT_EQ(RecheckDue(s, 10min), ParseTime("2024-01-01T00:10:00Z"));
  s.last_job = LastJob{"j", "Succeeded", 0, "2024-01-01T01:00:00Z", "", ""};
  EXPECT_EQ(RecheckDue(s, 10min), ParseTime("2024-01-01T01:10:00Z"));
  s.last_job->completion_time = "2024-01-01T02:00:00Z";
  EXPECT_EQ(RecheckDue(s, 10min), ParseTime("2024-01-01T02:10:00Z"));
}

// --- Image sources: pendingCount and target from the runner ---

TEST_F(DecideTest, ImageSourcePendingCountAndTargetFromTheRunner) {
  in_.spec = ParseSpec(json::parse(
      R"({"database":{"secretRef":{"name":"db"}},"source":{"image":{"ref":"reg/m:1"}}})"));
  ImageSource img;
  img.ref = "reg/m:1";
  in_.source = SourceFromImage(img);
  Decision first = Run();
  ASSERT_TRUE(first.create_job);
  EXPECT_FALSE(first.status.pending_count);  // unknown before a runner reported
  EXPECT_FALSE(first.status.target_version);
  Store(first);
  std::string name = first.create_job->name;
  json failed = json::parse(R"({"ok":false,"exit_code":7,"current_version":2,"target_version":5,
      "pending_count":3,"applied":[{},{}],"error":{"reason":"ConnectionLost"}})");
  in_.jobs = {Job(name, JobPhase::kFailed, 7, failed)};
  Decision d = Run();
  EXPECT_EQ(d.status.pending_count, 3);
  EXPECT_EQ(d.status.applied_version, 2);
  Store(d);
  clock_.Advance(10s);
  in_.now = clock_.WallNow();
  Decision retry = Run();
  ASSERT_TRUE(retry.create_job);
  Store(retry);
  in_.jobs.push_back(Job(retry.create_job->name, JobPhase::kSucceeded, 0,
                         json::parse(R"({"current_version":5,"target_version":5,
                                         "pending_count":0})")));
  Decision done = Run();
  EXPECT_EQ(done.status.pending_count, 0);
  EXPECT_EQ(done.status.target_version, 5);
  EXPECT_TRUE(done.status.Is(kReady));
  // A new image: pending is unknown again until its runner reports.
  Store(done);
  img.ref = "reg/m:2";
  in_.source = SourceFromImage(img);
  EXPECT_FALSE(Run().status.pending_count);
}

TEST_F(DecideTest, ForeignPodsAreReportedNotBelieved) {
  in_.foreign_pods = {"forged"};
  Decision d = Run();
  auto e = std::find_if(d.events.begin(), d.events.end(),
                        [](const EventNote& n) { return n.reason == "ForeignPodIgnored"; });
  ASSERT_NE(e, d.events.end());
  EXPECT_TRUE(e->warning);
  EXPECT_NE(e->message.find("pod forged"), std::string::npos);
  EXPECT_TRUE(d.create_job);  // the migration goes on as if the pod were not there
}

}  // namespace
}  // namespace sg::controller
