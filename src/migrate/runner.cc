#include "migrate/runner.h"

#include <unistd.h>
#include <algorithm>
#include <random>

#include "common/duration.h"
#include "migrate/planner.h"

namespace sg::migrate {
namespace {

using Ms = std::chrono::milliseconds;

Outcome Start(const char* command) {
  Outcome out;
  out.report = Json::object();
  out.report["command"] = command;
  out.report["ok"] = true;
  out.report["exit_code"] = 0;
  return out;
}

// The up file a record refers to, by its real name when the source has it.
std::string FileFor(const Source& source, const AppliedRecord& r) {
  if (const SourceMigration* m = source.Find(r.version)) return m->migration.up.FileName();
  return std::to_string(r.version) + "_" + r.name + ".up.sql";
}

// A store error: the connection is gone (7) or something unexpected (1).
ExitCode StoreExitCode(const ::sg::Status& s) {
  return s.code() == Code::kUnavailable ? ExitCode::kConnect : ExitCode::kInternal;
}

bool Retryable(const std::string& sqlstate) {
  return sqlstate == "55P03" || sqlstate == "40P01" || sqlstate == "40001";
}

}  // namespace

// Releases the runner lock on every path out of a verb.
class Runner::LockGuard {
 public:
  explicit LockGuard(MigrationStore* store) : store_(store) {}
  ~LockGuard() { store_->Unlock().IgnoreError(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  MigrationStore* store_;
};

Runner::Runner(MigrationStore* store, Clock* clock, RunnerOptions options, Progress progress)
    : store_(store), clock_(clock), options_(std::move(options)), progress_(std::move(progress)) {
  if (!progress_) progress_ = [](const std::string&) {};
}

Outcome Runner::Fail(Outcome out, ExitCode code, const std::string& message,
                     std::string reason) const {
  out.code = code;
  out.report["ok"] = false;
  out.report["exit_code"] = static_cast<int>(code);
  Json& err = out.report["error"];
  if (!err.is_object()) err = Json::object();
  err["reason"] = reason.empty() ? std::string(DefaultReason(code)) : reason;
  err["message"] = message;
  return out;
}

void Runner::NeedsRepairError(const AppliedRecord& r, const std::string& label, Outcome* out) {
  std::string what = r.state == RecordState::kRunning
                         ? "was interrupted while running outside a transaction"
                         : "failed part-way outside a transaction";
  std::string message = label + " " + what;
  if (r.state == RecordState::kFailed) {
    message += " after " + std::to_string(r.statements_done) + " statement(s)";
    if (!r.sqlstate.empty()) message += " (SQLSTATE " + r.sqlstate + ": " + r.error_message + ")";
  }
  message +=
      "; its statements may be partly applied. Check the database by hand and finish or undo "
      "them, then run `schemagate migrate repair` to clear the record.";
  std::vector<std::string> invalid = store_->InvalidIndexes();
  Json& err = out->report["error"];
  err = Json::object();
  err["version"] = r.version;
  err["file"] = label;
  if (!r.sqlstate.empty()) err["sqlstate"] = r.sqlstate;
  if (!r.failed_statement.empty()) err["statement"] = r.failed_statement;
  if (!invalid.empty()) {
    std::string list;
    for (const auto& i : invalid) list += (list.empty() ? "" : ", ") + i;
    message += " INVALID index(es) left by a failed CREATE INDEX CONCURRENTLY: " + list +
               " (DROP INDEX CONCURRENTLY them before retrying).";
    err["invalid_indexes"] = invalid;
  }
  *out = Fail(std::move(*out), ExitCode::kNeedsRepair, message);
}

bool Runner::CheckState(const Source& source, StoreState* state, Outcome* out,
                        bool allow_out_of_order, bool defer_unfinished) {
  auto read = store_->Read();
  if (!read.ok()) {
    ExitCode code = StoreExitCode(read.status());
    *out = Fail(std::move(*out), code, read.status().message());
    return false;
  }
  *state = std::move(read).value();
  out->report["current_version"] = CurrentVersion(state->records);
  if (options_.fence_token > 0 && state->fence_token > options_.fence_token) {
    *out = Fail(std::move(*out), ExitCode::kLock,
                "fenced out: fencing token " + std::to_string(options_.fence_token) +
                    " is older than " + std::to_string(state->fence_token) +
                    " already recorded by a newer run; refusing to apply anything",
                "Fenced");
    return false;
  }
  auto unfinished = Unfinished(state->records);
  if (!unfinished.empty() && !defer_unfinished) {
    NeedsRepairError(*unfinished.front(), FileFor(source, *unfinished.front()), out);
    return false;
  }
  auto drift = DetectDrift(source, state->records, allow_out_of_order);
  if (!drift.empty()) {
    Json list = Json::array();
    std::string message = "drift between " + source.dir + " and the database: ";
    for (size_t i = 0; i < drift.size(); ++i) {
      list.push_back(DriftJson(drift[i]));
      message += (i ? "; " : "") + drift[i].message;
    }
    out->report["drift"] = list;
    out->report["error"] = Json::object();
    out->report["error"]["version"] = drift.front().version;
    out->report["error"]["file"] = drift.front().file;
    *out = Fail(std::move(*out), ExitCode::kDrift, message,
                std::string(DriftKindName(drift.front().kind)));
    return false;
  }
  return true;
}

bool Runner::AcquireLock(Outcome* out) {
  if (options_.lock == LockMode::kNone) return true;
  auto deadline = clock_->Now() + options_.lock_wait;
  Ms backoff(25);
  std::minstd_rand rng(static_cast<unsigned>(getpid()) ^
                       static_cast<unsigned>(clock_->Now().time_since_epoch().count()));
  bool announced = false;
  while (true) {
    if (Stopping()) {
      *out = Interrupted(std::move(*out), "waiting for the runner lock");
      return false;
    }
    auto got = store_->TryLock();
    if (!got.ok()) {
      *out = Fail(std::move(*out), StoreExitCode(got.status()), got.status().message());
      return false;
    }
    if (*got) return true;
    auto now = clock_->Now();
    if (now >= deadline) {
      std::string holder = store_->DescribeLockHolder();
      *out = Fail(std::move(*out), ExitCode::kLock,
                  "runner lock not obtained within --lock-wait " +
                      FormatDuration(options_.lock_wait) + (holder.empty() ? "" : ": " + holder) +
                      "; another `schemagate migrate` is running against this database",
                  "LockNotObtained");
      return false;
    }
    if (!announced) {
      std::string holder = store_->DescribeLockHolder();
      progress_("waiting for the runner lock" + (holder.empty() ? "" : " (" + holder + ")"));
      announced = true;
    }
    // Jitter spreads many waiters (16 replicas starting at once) apart.
    std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
    auto sleep = std::min<Clock::Duration>(backoff + Ms(jitter(rng)), deadline - now);
    Nap(sleep);
    backoff = std::min(backoff * 2, Ms(2000));
  }
}

bool Runner::Nap(Clock::Duration d) {
  if (!options_.stop) {
    clock_->SleepFor(d);
    return true;
  }
  // Slices keep a SIGTERM during a backoff answered within 100 ms.
  const auto until = clock_->Now() + d;
  while (!Stopping()) {
    auto now = clock_->Now();
    if (now >= until) return true;
    clock_->SleepFor(std::min<Clock::Duration>(until - now, Ms(100)));
  }
  return false;
}

Outcome Runner::Interrupted(Outcome out, const std::string& where) const {
  return Fail(std::move(out), ExitCode::kInterrupted,
              "interrupted (SIGTERM or SIGINT) while " + where +
                  "; the statement in flight was cancelled and its migration rolled back",
              "Interrupted");
}

bool Runner::TakeFence(Outcome* out) {
  if (options_.fence_token <= 0) return true;
  ExecOptions exec{options_.lock_timeout, options_.statement_timeout, options_.fence_token};
  const auto deadline = clock_->Now() + options_.lock_wait;
  Ms backoff(25);
  bool announced = false;
  while (true) {
    if (Stopping()) {
      *out = Interrupted(std::move(*out), "taking the fence");
      return false;
    }
    ExecResult r = store_->TakeFence(options_.fence_token, exec);
    switch (r.outcome) {
      case ExecOutcome::kDone:
        return true;
      case ExecOutcome::kFenced:
        *out = Fail(std::move(*out), ExitCode::kLock,
                    "fenced out: a newer run recorded a higher fencing token than " +
                        std::to_string(options_.fence_token) + "; refusing to apply anything",
                    "Fenced");
        return false;
      case ExecOutcome::kConnectionLost:
        *out =
            Fail(std::move(*out), ExitCode::kConnect,
                 "connection lost while taking the fence: " + r.failure.message, "ConnectionLost");
        return false;
      default:
        break;
    }
    if (!Retryable(r.failure.sqlstate) || clock_->Now() >= deadline) {
      *out = Fail(std::move(*out),
                  r.failure.sqlstate == "55P03" ? ExitCode::kLock : ExitCode::kInternal,
                  "taking the fence: " + r.failure.message +
                      (r.failure.sqlstate.empty() ? "" : " (SQLSTATE " + r.failure.sqlstate + ")"),
                  r.failure.sqlstate == "55P03" ? "LockNotObtained" : "");
      return false;
    }
    if (!announced) {
      progress_("waiting for the fence: a migration of another run is in flight");
      announced = true;
    }
    Nap(std::min<Clock::Duration>(backoff, deadline - clock_->Now()));
    backoff = std::min(backoff * 2, Ms(1000));
  }
}

bool Runner::Execute(const SourceMigration& m, bool up, Outcome* out) {
  ExecOptions exec{options_.lock_timeout, options_.statement_timeout, options_.fence_token};
  Ms backoff = options_.retry_backoff;
  const std::string file = up ? m.migration.up.FileName() : m.migration.down->FileName();
  for (int attempt = 0;; ++attempt) {
    progress_((up ? "applying " : "reverting ") + file);
    ExecResult r = up ? store_->Apply(m, exec) : store_->Revert(m, exec);
    if (r.outcome == ExecOutcome::kDone) {
      Json j = MigrationJson(m.migration);
      j["execution_ms"] = r.execution_ms;
      out->report[up ? "applied" : "reverted"].push_back(j);
      progress_((up ? "applied " : "reverted ") + file + " in " +
                FormatDuration(Ms(r.execution_ms)));
      return true;
    }
    if (r.outcome == ExecOutcome::kAlreadyDone) {
      Json j = MigrationJson(m.migration);
      j["by_another_run"] = true;
      out->report[up ? "skipped" : "skipped_revert"].push_back(j);
      progress_(file + " was " + (up ? "applied" : "reverted") +
                " by another run meanwhile (re-read under the fence): skipped");
      return true;
    }
    if (r.outcome == ExecOutcome::kFenced) {
      *out = Fail(std::move(*out), ExitCode::kLock,
                  "fenced out before " + file +
                      ": a newer run recorded a higher fencing token "
                      "than " +
                      std::to_string(options_.fence_token) + "; nothing was applied",
                  "Fenced");
      return false;
    }
    if (options_.verbose_errors && !r.failure.detail.empty()) {
      progress_(file + ": DETAIL: " + r.failure.detail);
    }
    Json err = FailureJson(r.failure);
    err["version"] = m.migration.version;
    err["file"] = file;
    std::string where = file + (r.failure.line ? ":" + std::to_string(r.failure.line) : "");
    if (r.outcome == ExecOutcome::kConnectionLost) {
      out->report["error"] = err;
      *out = Fail(std::move(*out), ExitCode::kConnect,
                  "connection lost while running " + where + ": " + r.failure.message +
                      (m.migration.up.no_transaction ? "" : "; the migration was rolled back"),
                  "ConnectionLost");
      return false;
    }
    if (r.needs_repair) {
      AppliedRecord rec;
      rec.version = m.migration.version;
      rec.name = m.migration.name;
      rec.state = RecordState::kFailed;
      rec.sqlstate = r.failure.sqlstate;
      rec.error_message = r.failure.message;
      rec.failed_statement = r.failure.statement;
      rec.statements_done = r.failure.statements_done;
      NeedsRepairError(rec, file, out);  // also when stopped part-way through such a file
      return false;
    }
    if (Stopping()) {
      out->report["error"] = err;
      *out = Interrupted(std::move(*out), (up ? "applying " : "reverting ") + file);
      return false;
    }
    if (Retryable(r.failure.sqlstate) && attempt < options_.lock_retries) {
      progress_(where + ": " + r.failure.message + " (SQLSTATE " + r.failure.sqlstate +
                "); rolled back, retrying in " + FormatDuration(backoff) + " (attempt " +
                std::to_string(attempt + 2) + " of " + std::to_string(options_.lock_retries + 1) +
                ")");
      if (!Nap(backoff)) {
        *out = Interrupted(std::move(*out), "waiting to retry " + file);
        return false;
      }
      backoff = std::min(backoff * 2, Ms(30000));
      continue;
    }
    out->report["error"] = err;
    if (r.failure.sqlstate == "55P03") {
      *out =
          Fail(std::move(*out), ExitCode::kLock,
               where + ": lock timeout (" + FormatDuration(options_.lock_timeout.value_or(Ms(0))) +
                   ") " + std::to_string(attempt + 1) + " times: " + r.failure.message +
                   "; the migration was rolled back each time",
               "LockTimeout");
      return false;
    }
    *out = Fail(std::move(*out), ExitCode::kMigrationFailed,
                where + ": " + r.failure.message +
                    (r.failure.sqlstate.empty() ? "" : " (SQLSTATE " + r.failure.sqlstate + ")") +
                    "; the migration was rolled back, the database is as before it");
    return false;
  }
}

Outcome Runner::Up(const Source& source, std::optional<int64_t> target) {
  Outcome out = Start("up");
  StoreState state;
  // Fast path: a constant number of round trips and no lock when nothing is
  // pending (every replica of an app may call this at start-up).
  if (!CheckState(source, &state, &out, options_.allow_out_of_order,
                  /*defer_unfinished=*/true)) {
    return out;
  }
  const bool unfinished = !Unfinished(state.records).empty();
  auto plan = PlanUp(source, state.records, target);
  if (!plan.ok())
    return Fail(std::move(out), ExitCode::kUsage, plan.status().message(), "InvalidTarget");
  out.report["applied"] = Json::array();
  out.report["target_version"] = target.value_or(source.Latest());
  // Versions up to the target not applied yet (the operator's pendingCount
  // for image sources, whose files it cannot read).
  out.report["pending_count"] = plan->size();
  if (plan->empty() && !unfinished) {
    progress_("nothing to do: database is at version " +
              std::to_string(CurrentVersion(state.records)));
    return out;
  }
  if (!AcquireLock(&out)) return out;
  LockGuard guard(store_);
  if (::sg::Status s = store_->EnsureTables(); !s.ok()) {
    return Fail(std::move(out), StoreExitCode(s), s.message());
  }
  if (!TakeFence(&out)) return out;
  // Another runner may have applied some or all while we waited (for the
  // lock, or for the fence: a stale run commits nothing after this point).
  if (!CheckState(source, &state, &out, options_.allow_out_of_order)) return out;
  plan = PlanUp(source, state.records, target);
  if (!plan.ok())
    return Fail(std::move(out), ExitCode::kUsage, plan.status().message(), "InvalidTarget");
  int64_t current = CurrentVersion(state.records);
  size_t pending = plan->size();
  out.report["pending_count"] = pending;
  for (const SourceMigration* m : *plan) {
    if (Stopping()) {
      out.report["current_version"] = current;
      return Interrupted(std::move(out), "about to apply " + m->migration.up.FileName());
    }
    if (!Execute(*m, true, &out)) {
      out.report["current_version"] = current;
      return out;
    }
    current = std::max(current, m->migration.version);
    out.report["pending_count"] = --pending;
  }
  out.report["current_version"] = current;
  return out;
}

Outcome Runner::Down(const Source& source, std::optional<int64_t> to, std::optional<int> steps,
                     bool all) {
  Outcome out = Start("down");
  out.report["reverted"] = Json::array();
  if (!AcquireLock(&out)) return out;
  LockGuard guard(store_);
  StoreState state;
  if (!CheckState(source, &state, &out, /*allow_out_of_order=*/true)) return out;
  if (state.table_exists && options_.fence_token > 0) {
    if (!TakeFence(&out)) return out;
    if (!CheckState(source, &state, &out, /*allow_out_of_order=*/true)) return out;
  }
  auto plan = PlanDown(source, state.records, to, steps, all);
  if (!plan.ok()) return Fail(std::move(out), ExitCode::kUsage, plan.status().message());
  for (const DownStep& step : *plan) {
    if (Stopping()) return Interrupted(std::move(out), "about to revert a migration");
    if (!Execute(*step.migration, false, &out)) return out;
  }
  auto after = store_->Read();
  if (after.ok()) out.report["current_version"] = CurrentVersion(after->records);
  if (plan->empty()) progress_("nothing to revert");
  return out;
}

Outcome Runner::Status(const Source& source) {
  Outcome out = Start("status");
  auto read = store_->Read();
  if (!read.ok()) {
    return Fail(std::move(out), StoreExitCode(read.status()), read.status().message());
  }
  const StoreState& state = *read;
  out.report["current_version"] = CurrentVersion(state.records);
  out.report["latest_version"] = source.Latest();
  Json applied = Json::array();
  for (const auto& r : state.records) applied.push_back(RecordJson(r));
  Json pending = Json::array();
  for (const SourceMigration* m : Pending(source, state.records)) {
    pending.push_back(MigrationJson(m->migration));
  }
  out.report["applied"] = std::move(applied);
  out.report["pending"] = std::move(pending);
  auto unfinished = Unfinished(state.records);
  auto drift = DetectDrift(source, state.records, options_.allow_out_of_order);
  Json drift_json = Json::array();
  for (const auto& d : drift) drift_json.push_back(DriftJson(d));
  out.report["drift"] = std::move(drift_json);
  if (!unfinished.empty()) {
    NeedsRepairError(*unfinished.front(), FileFor(source, *unfinished.front()), &out);
  } else if (!drift.empty()) {
    out.report["error"] = Json::object();
    out = Fail(std::move(out), ExitCode::kDrift, drift.front().message,
               std::string(DriftKindName(drift.front().kind)));
  }
  return out;
}

Outcome Runner::Validate(const Source& source) {
  Outcome out = Start("validate");
  out.report["migrations"] = source.migrations.size();
  out.report["latest_version"] = source.Latest();
  StoreState state;
  CheckState(source, &state, &out, options_.allow_out_of_order);
  return out;
}

Outcome Runner::Plan(const Source& source, std::optional<int64_t> target) {
  Outcome out = Start("plan");
  StoreState state;
  if (!CheckState(source, &state, &out, options_.allow_out_of_order)) return out;
  auto plan = PlanUp(source, state.records, target);
  if (!plan.ok())
    return Fail(std::move(out), ExitCode::kUsage, plan.status().message(), "InvalidTarget");
  out.report["target_version"] = target.value_or(source.Latest());
  Json would = Json::array();
  for (const SourceMigration* m : *plan) {
    Json j = MigrationJson(m->migration);
    j["statements"] = m->up_statements.size();
    would.push_back(std::move(j));
  }
  out.report["would_apply"] = std::move(would);
  return out;
}

Outcome Runner::Baseline(const Source& source, int64_t version) {
  Outcome out = Start("baseline");
  if (source.Find(version) == nullptr) {
    return Fail(std::move(out), ExitCode::kUsage,
                "baseline " + std::to_string(version) +
                    ": no migration file with that version in " + source.dir);
  }
  if (!AcquireLock(&out)) return out;
  LockGuard guard(store_);
  if (::sg::Status s = store_->EnsureTables(); !s.ok()) {
    return Fail(std::move(out), StoreExitCode(s), s.message());
  }
  auto read = store_->Read();
  if (!read.ok()) return Fail(std::move(out), ExitCode::kInternal, read.status().message());
  if (!read->records.empty()) {
    return Fail(std::move(out), ExitCode::kUsage,
                "baseline adopts an untracked database, but the tracking table already records " +
                    std::to_string(read->records.size()) + " version(s) (newest " +
                    std::to_string(CurrentVersion(read->records)) + ")");
  }
  std::vector<const SourceMigration*> adopt;
  for (const auto& m : source.migrations) {
    if (m.migration.version <= version) adopt.push_back(&m);
  }
  if (::sg::Status s = store_->Baseline(adopt); !s.ok()) {
    return Fail(std::move(out), ExitCode::kInternal, s.message());
  }
  Json list = Json::array();
  for (const auto* m : adopt) list.push_back(MigrationJson(m->migration));
  out.report["baselined"] = std::move(list);
  out.report["current_version"] = version;
  progress_("recorded " + std::to_string(adopt.size()) + " migration(s) up to " +
            std::to_string(version) + " as applied without running them");
  return out;
}

Outcome Runner::Repair() {
  Outcome out = Start("repair");
  if (!AcquireLock(&out)) return out;
  LockGuard guard(store_);
  auto cleared = store_->ClearUnfinished();
  if (!cleared.ok()) return Fail(std::move(out), ExitCode::kInternal, cleared.status().message());
  out.report["cleared"] = *cleared;
  std::vector<std::string> invalid = store_->InvalidIndexes();
  if (!invalid.empty()) out.report["invalid_indexes"] = invalid;
  if (cleared->empty()) {
    progress_("nothing to repair: no failed or interrupted migration is recorded");
  } else {
    for (int64_t v : *cleared) {
      progress_("cleared the failed record of version " + std::to_string(v) +
                "; the next `up` runs it again");
    }
  }
  return out;
}

}  // namespace sg::migrate
