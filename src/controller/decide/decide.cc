#include "controller/decide/decide.h"

#include <algorithm>

namespace sg::controller {
namespace {

std::string VersionText(std::optional<int64_t> v) {
  return v ? "version " + std::to_string(*v) : "the newest version";
}

// Builds one decision; keeps the three kstatus conditions consistent.
class Decider {
 public:
  explicit Decider(const Observed& in) : in_(in), now_(FormatTime(in.now)) {
    d_.status = in.status;
    s().observed_generation = in.meta.generation;
    s().database.identity = in.identity;
    s().database.lease_name = in.lease_name;
    if (in.lease.tried) s().database.lease_holder = in.lease.holder;
    for (const auto& j : in.jobs) {
      if (j.phase == JobPhase::kActive) active_.push_back(&j);
    }
  }

  Decision Run();

 private:
  void Decide();
  void Deleting();
  void Finalizer();
  void ScheduleRecheck(Clock::WallTime due);
  // Starts a recheck when one is due (true), else schedules it.
  bool Recheck();
  MigrationStatus& s() { return d_.status; }

  void Conditions(bool ready, bool reconciling, bool stalled, const std::string& reason,
                  const std::string& message) {
    int64_t g = in_.meta.generation;
    s().Set(kReady, ready, reason, message, g, now_);
    s().Set(kReconciling, reconciling, reason, message, g, now_);
    s().Set(kStalled, stalled, reason, message, g, now_);
  }
  // No Job of ours may start now: keep renewing for a running one, else
  // free the Lease if the status says we may hold it.
  void Idle(const JobOutcome* except = nullptr) {
    bool other_active = std::any_of(active_.begin(), active_.end(),
                                    [&](const JobOutcome* j) { return j != except; });
    // A runner pod still running (its Job failed, was deleted, or orphaned
    // it) keeps the Lease: no other Job may start beside it.
    if (other_active || !in_.live_pods.empty()) {
      d_.want_lease = true;
      d_.requeue_after = in_.lease.retry_in;
    } else if (in_.status.database.lease_holder == in_.holder_identity ||
               s().database.lease_holder == in_.holder_identity) {
      d_.release_lease = true;
      s().database.lease_holder = "";
    }
  }
  // A Job is wanted, starting or running: Reconciling, except during a
  // recheck of a Ready object, which leaves the conditions as stored.
  void Progress(const std::string& reason, const std::string& message) {
    if (recheck_) {
      s().conditions = in_.status.conditions;
      return;
    }
    Conditions(false, true, false, reason, message);
  }
  void Event(bool warning, std::string reason, std::string message) {
    d_.events.push_back({warning, std::move(reason), std::move(message)});
  }
  bool Recorded(const JobOutcome& j, const char* result) const {
    return in_.status.last_job && in_.status.last_job->name == j.name &&
           in_.status.last_job->result == result;
  }
  void Stall(const std::string& reason, const std::string& message) {
    Conditions(false, false, true, reason, message);
    Idle();
  }
  void Finished(const JobOutcome& job);
  void RetryableFailure(const std::string& job_name, const std::string& reason,
                        const std::string& summary, bool already_recorded);
  void StartJob();
  // The desired Job is active but its pod cannot start.
  void CannotStart(const JobOutcome& job);

  const Observed& in_;
  const std::string now_;
  Decision d_;
  std::vector<const JobOutcome*> active_;
  const SourceInfo* source_ = nullptr;
  const SchemaMigrationSpec* spec_ = nullptr;
  std::optional<int64_t> target_;
  std::string desired_;
  bool recheck_ = false;  // Ready, same generation and source: a Job now re-verifies
};

Decision Decider::Run() {
  if (in_.meta.deleting) {
    Deleting();
    return d_;
  }
  for (const std::string& pod : in_.foreign_pods) {
    // Only a pod its Job's uid ties to it speaks for a Job: labels can be
    // set by anyone who may create pods here.
    Event(true, "ForeignPodIgnored",
          "pod " + pod +
              " is labelled as a runner of this SchemaMigration but no Job of it controls the "
              "pod; its result is ignored");
  }
  Decide();
  Finalizer();
  return d_;
}

void Decider::Deleting() {
  // Deleting is the user's "stop": delete our running Jobs now (the garbage
  // collector would only once the object is gone, after our finalizer),
  // keep the Lease while a runner pod still runs, then release it and let
  // the object go. Never a new Job, never a status write.
  d_.status = in_.status;
  for (const JobOutcome* j : active_) d_.delete_jobs.push_back(j->name);
  const bool has = in_.meta.HasFinalizer(kFinalizer);
  if (has && !in_.live_pods.empty()) {
    auto deleted = ParseTime(in_.meta.deletion_timestamp);
    bool gave_up = deleted && in_.now - *deleted >= kDeletionPodWait;
    if (!gave_up) {
      d_.want_lease = true;
      d_.requeue_after = std::min<Clock::Duration>(in_.lease.retry_in, std::chrono::seconds(5));
      return;
    }
    Event(true, "RunnerPodNotTerminated",
          "pod " + in_.live_pods.front() + " has not terminated " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(kDeletionPodWait).count()) +
              " s after deletion; releasing the database Lease anyway (the fence stops that "
              "runner from committing)");
  }
  d_.forget = true;
  bool ours = in_.status.database.lease_holder == in_.holder_identity;
  if (has) {
    d_.finalizer = FinalizerAction::kRemove;
    d_.release_lease = true;
  } else if (ours) {
    d_.release_lease = true;
  }
}

void Decider::Finalizer() {
  bool has = in_.meta.HasFinalizer(kFinalizer);
  if (d_.want_lease && !has) {
    d_.finalizer = FinalizerAction::kAdd;
  } else if (!d_.want_lease && has) {
    // The reconciler releases first (only a Lease that still names us),
    // then removes the finalizer.
    d_.finalizer = FinalizerAction::kRemove;
    d_.release_lease = true;
  }
}

void Decider::ScheduleRecheck(Clock::WallTime due) {
  auto in = std::chrono::duration_cast<Clock::Duration>(due - in_.now);
  if (in < std::chrono::seconds(1)) in = std::chrono::seconds(1);
  if (!d_.requeue_after || *d_.requeue_after > in) d_.requeue_after = in;
}

void Decider::Decide() {
  if (!in_.spec.ok()) {
    Stall("InvalidSpec", in_.spec.status().message());
    return;
  }
  spec_ = &*in_.spec;
  if (Status allowed = CheckJobPolicy(*spec_, in_.policy); !allowed.ok()) {
    Stall("PolicyViolation", allowed.message());
    return;
  }
  if (!in_.source.ok()) {
    Stall(in_.source.status().code() == Code::kNotFound ? "SourceNotFound" : "InvalidSource",
          in_.source.status().message());
    return;
  }
  source_ = &*in_.source;
  target_ = spec_->target_version ? spec_->target_version : source_->Newest();

  // A new generation or source: start over (Ready turns False below before
  // any Job starts, because no Job of the new name has succeeded yet).
  bool new_key = in_.status.conditions.empty() ||
                 in_.status.observed_generation != in_.meta.generation ||
                 in_.status.source_checksum != source_->checksum;
  if (new_key) {
    s().attempt = 0;
    s().failures = 0;
    s().next_retry_time.clear();
    if (!source_->versions_known) s().pending_count.reset();
  }
  recheck_ = !new_key && in_.status.Is(kReady);
  s().source_checksum = source_->checksum;
  if (target_) s().target_version = target_;

  // A retry requested by the user (a new annotation value).
  auto retry = in_.meta.annotations.find(kRetryAnnotation);
  if (retry != in_.meta.annotations.end() && !retry->second.empty() &&
      retry->second != in_.status.retry_handled) {
    s().retry_handled = retry->second;
    if (!new_key && in_.status.Is(kStalled)) {
      s().attempt += 1;
      s().failures = 0;
      s().next_retry_time.clear();
      Event(false, "RetryRequested", "retry requested through " + std::string(kRetryAnnotation));
    }
  }

  desired_ = JobName(in_.meta, source_->checksum, target_, s().attempt);
  const JobOutcome* job = nullptr;
  for (const auto& j : in_.jobs) {
    if (j.name == desired_) job = &j;
  }
  if (target_ && source_->versions_known) {
    s().pending_count = source_->CountBetween(s().applied_version, *target_);
  }

  if (job && job->phase == JobPhase::kActive && !job->waiting_reason.empty()) {
    CannotStart(*job);
    return;
  }
  if (job && job->phase == JobPhase::kActive) {
    s().last_job = LastJob{
        job->name,    "Running",
        std::nullopt, job->start_time,
        "",           (recheck_ ? "re-verifying " : "migrating to ") + VersionText(target_)};
    std::string msg = "Job " + job->name + " is migrating to " + VersionText(target_);
    d_.want_lease = true;
    if (in_.lease.tried && !in_.lease.held) {
      // Another holder took the Lease (we did not renew in time): the
      // runner is fenced out at its next migration; stop it now.
      msg += "; the database Lease is held by " +
             (in_.lease.holder.empty() ? std::string("nobody") : in_.lease.holder) +
             ": the Job is stopped (its runner is fenced out)";
      d_.delete_jobs.push_back(job->name);
      Event(true, "LeaseLost", msg);
    }
    Progress("JobRunning", msg);
    d_.requeue_after = in_.lease.retry_in;
    return;
  }
  if (job) {
    // A success already in the status (the Job stays until its TTL) may be
    // due for a recheck; anything else is (re)recorded.
    if (job->phase == JobPhase::kSucceeded && Recorded(*job, "Succeeded") && Recheck()) return;
    Finished(*job);
    return;
  }

  const auto& last = in_.status.last_job;
  if (last && last->name == desired_) {
    if (last->result == "Succeeded") {
      if (Recheck()) return;
      const Condition* c = in_.status.Find(kReady);
      Conditions(true, false, false, "Succeeded",
                 c && c->status == "True"
                     ? c->message
                     : "database at version " +
                           (s().applied_version ? std::to_string(*s().applied_version) : "?"));
      Idle();
      return;
    }
    if (last->result == "Failed") {
      // Recorded as terminal before the Job went away: stay Stalled.
      const Condition* c = in_.status.Find(kStalled);
      Stall(c && c->status == "True" ? c->reason : "JobFailed",
            c && c->status == "True" ? c->message : last->message);
      return;
    }
    if (last->result == "Running") {
      RetryableFailure(desired_, "JobLost", "Job " + desired_ + " disappeared before finishing",
                       false);
      return;
    }
  }

  if (!active_.empty() && in_.status.Is(kStalled) && last && last->result == "Failed") {
    // The Job we gave up on (it could not start) is still being deleted.
    s().conditions = in_.status.conditions;
    for (const JobOutcome* j : active_) {
      if (j->name == last->name) d_.delete_jobs.push_back(j->name);
    }
    Idle();
    return;
  }
  if (!active_.empty()) {
    Progress("WaitingForPreviousJob",
             "Job " + active_.front()->name + " of an earlier generation is still running");
    Idle();
    return;
  }
  if (spec_->suspend) {
    bool keep_ready = !new_key && in_.status.Is(kReady);
    Conditions(keep_ready, false, false, "Suspended", "spec.suspend is true: no Job is started");
    Idle();
    return;
  }
  if (auto next = ParseTime(s().next_retry_time); next && *next > in_.now) {
    d_.requeue_after = std::chrono::duration_cast<Clock::Duration>(*next - in_.now);
    if (!new_key && in_.status.Is(kStalled)) {
      // Stalled until the retry (a Job that could not start): say so.
      s().conditions = in_.status.conditions;
      Idle();
      return;
    }
    const Condition* c = in_.status.Find(kReconciling);
    Progress(c && !c->reason.empty() ? c->reason : "BackingOff", c ? c->message : "backing off");
    d_.requeue_after = std::chrono::duration_cast<Clock::Duration>(*next - in_.now);
    Idle();
    return;
  }
  if (target_ && s().applied_version && *target_ < *s().applied_version && !spec_->allow_down) {
    Stall("DownNotAllowed", "target version " + std::to_string(*target_) +
                                " is below the applied version " +
                                std::to_string(*s().applied_version) +
                                "; set spec.allowDown: true to run down migrations");
    return;
  }
  StartJob();
  return;
}

bool Decider::Recheck() {
  if (in_.recheck_interval <= Clock::Duration::zero() || !active_.empty() || spec_->suspend ||
      !in_.status.Is(kReady)) {
    return false;
  }
  auto due = RecheckDue(in_.status, in_.recheck_interval);
  if (!due) return false;
  if (*due > in_.now) {
    ScheduleRecheck(*due);
    return false;
  }
  // Re-verify: a new attempt (a new Job name), Ready kept (recheck_).
  s().attempt += 1;
  desired_ = JobName(in_.meta, source_->checksum, target_, s().attempt);
  StartJob();
  return true;
}

void Decider::StartJob() {
  d_.want_lease = true;
  if (!in_.lease.tried) {
    Progress("Progressing", "migrating to " + VersionText(target_));
    return;
  }
  d_.requeue_after = in_.lease.retry_in;
  if (!in_.lease.held) {
    Progress("WaitingForLease", "waiting for database Lease " + in_.lease_name + " (" +
                                    in_.identity + ") held by " + in_.lease.holder);
    return;
  }
  if (in_.lease.fencing_token < 1) {
    // Never a Job without a token: its runner would be unfenced.
    Progress("WaitingForLease",
             "database Lease " + in_.lease_name + " is held but has no fencing token yet");
    return;
  }
  JobPlan plan;
  plan.name = desired_;
  plan.fence_token = in_.lease.fencing_token;
  plan.target = target_;
  plan.down = target_ && s().applied_version && *target_ < *s().applied_version;
  plan.config_maps = source_->config_maps;
  plan.default_image = in_.default_image;
  d_.create_job = plan;
  if (recheck_) {
    // Quiet: one per interval per object, and nothing changes for waiters.
    s().conditions = in_.status.conditions;
    return;
  }
  std::string msg = "starting Job " + desired_ + " to migrate " +
                    std::string(plan.down ? "down" : "up") + " to " + VersionText(target_);
  Conditions(false, true, false, "JobCreated", msg);
  Event(false, "JobCreated", msg);
}

void Decider::CannotStart(const JobOutcome& job) {
  std::string what = "Job " + job.name + " cannot start: pod " + job.waiting_pod + ": " +
                     job.waiting_reason +
                     (job.waiting_message.empty() ? "" : ": " + job.waiting_message);
  auto started = ParseTime(job.start_time);
  auto waited = started ? std::chrono::duration_cast<Clock::Duration>(in_.now - *started)
                        : Clock::Duration::zero();
  if (waited < in_.job_start_timeout) {
    d_.want_lease = true;
    const Condition* c = in_.status.Find(kReconciling);
    if (!c || c->status != "True" || c->reason != job.waiting_reason) {
      Event(true, job.waiting_reason, what);
    }
    s().last_job = LastJob{job.name, "Running", std::nullopt, job.start_time, "", what};
    auto left = in_.job_start_timeout - waited;
    Progress(
        job.waiting_reason,
        what + "; given up in " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(left).count() + 1) +
            " s unless it starts");
    d_.requeue_after =
        std::min<Clock::Duration>(in_.lease.retry_in, left + std::chrono::seconds(1));
    return;
  }
  // Give up on this Job: delete it, give the Lease back once its pod is
  // gone, retry later (the cause is often fixed meanwhile: a Secret added).
  d_.delete_jobs.push_back(job.name);
  s().failures += 1;
  s().attempt += 1;
  auto delay = RetryBackoff(s().failures);
  s().next_retry_time =
      FormatTime(in_.now + std::chrono::duration_cast<std::chrono::system_clock::duration>(delay));
  std::string msg =
      what + " for " +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(waited).count()) +
      " s: the Job is deleted and the database Lease given back; retry " +
      std::to_string(s().failures) + " at " + s().next_retry_time;
  s().last_job = LastJob{job.name, "Failed", std::nullopt, job.start_time, now_, msg};
  Conditions(false, false, true, job.waiting_reason, msg);
  Event(true, job.waiting_reason, msg);
  Idle(&job);
  if (!d_.requeue_after || *d_.requeue_after > delay) d_.requeue_after = delay;
}

void Decider::Finished(const JobOutcome& job) {
  if (auto v = job.CurrentVersion()) s().applied_version = v;
  if (target_ && source_->versions_known) {
    s().pending_count = source_->CountBetween(s().applied_version, *target_);
  } else if (auto p = job.PendingCount()) {
    s().pending_count = p;  // an image: only the runner has seen its files
  }
  LastJob lj{job.name,
             job.phase == JobPhase::kSucceeded ? "Succeeded" : "Failed",
             job.exit_code,
             job.start_time,
             job.completion_time,
             ""};
  if (job.phase == JobPhase::kSucceeded) {
    if (!target_) {
      if (auto t = job.TargetVersion()) {
        s().target_version = t;
      } else if (s().applied_version) {
        s().target_version = s().applied_version;
      }
    }
    s().pending_count = 0;
    s().failures = 0;
    s().next_retry_time.clear();
    std::string version = s().applied_version ? std::to_string(*s().applied_version) : "?";
    lj.message = "applied " + std::to_string(job.AppliedCount()) +
                 " migration(s); database at version " + version;
    s().last_job = lj;
    Conditions(true, false, false, "Succeeded",
               "database at version " + version + " (Job " + job.name + ": " + lj.message + ")");
    if (!Recorded(job, "Succeeded") && (!recheck_ || job.AppliedCount() > 0)) {
      Event(false, "MigrationSucceeded", lj.message);
    }
    Idle(&job);
    if (in_.recheck_interval > Clock::Duration::zero() && !d_.requeue_after) {
      if (auto due = RecheckDue(s(), in_.recheck_interval)) ScheduleRecheck(*due);
    }
    return;
  }
  const std::string reason = job.Reason();
  const std::string summary = job.Summary();
  lj.message = summary;
  bool terminal =
      (job.exit_code && IsTerminalExitCode(*job.exit_code)) || job.job_reason == "DeadlineExceeded";
  if (terminal) {
    s().last_job = lj;
    std::string msg = "Job " + job.name + " failed: " + summary;
    if (!Recorded(job, "Failed")) Event(true, reason, msg);
    Conditions(false, false, true, reason, msg);
    Idle(&job);
    return;
  }
  s().last_job = lj;
  RetryableFailure(job.name, reason, summary, Recorded(job, "Failed"));
}

void Decider::RetryableFailure(const std::string& job_name, const std::string& reason,
                               const std::string& summary, bool already_recorded) {
  if (!already_recorded) {
    s().failures += 1;
    s().attempt += 1;
    auto delay = RetryBackoff(s().failures);
    s().next_retry_time = FormatTime(
        in_.now + std::chrono::duration_cast<std::chrono::system_clock::duration>(delay));
    d_.requeue_after = delay;
  }
  if (!s().last_job || s().last_job->name != job_name) {
    s().last_job = LastJob{job_name, "Failed", std::nullopt, "", "", summary};
  }
  std::string msg = "Job " + job_name + " failed: " + summary + "; retry " +
                    std::to_string(s().failures) + " at " + s().next_retry_time;
  if (!already_recorded) Event(true, recheck_ ? "RecheckFailed" : reason, msg);
  Progress(reason, msg);
  Idle();
}

}  // namespace

Clock::Duration RetryBackoff(int32_t failures) {
  using namespace std::chrono_literals;
  Clock::Duration d = 10s;
  for (int32_t i = 1; i < failures && d < 300s; ++i) d *= 2;
  return std::min<Clock::Duration>(d, 300s);
}

std::optional<Clock::WallTime> RecheckDue(const MigrationStatus& status, Clock::Duration interval) {
  std::optional<Clock::WallTime> base;
  if (status.last_job) {
    base = ParseTime(status.last_job->completion_time);
    if (!base) base = ParseTime(status.last_job->start_time);
  }
  if (!base) {
    if (const Condition* c = status.Find(kReady)) base = ParseTime(c->last_transition_time);
  }
  if (!base) return std::nullopt;
  return *base + std::chrono::duration_cast<std::chrono::system_clock::duration>(interval);
}

bool IsTerminalExitCode(int32_t code) { return code == 2 || code == 3 || code == 4 || code == 6; }

Decision Decide(const Observed& in) { return Decider(in).Run(); }

}  // namespace sg::controller
