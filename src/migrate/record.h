// What the tracking table says about one version, and how the runner's exit
// codes map outcomes (the operator maps these codes to conditions: keep them).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg::migrate {

enum class ExitCode : int {
  kOk = 0,               // success, including nothing to do
  kInternal = 1,         // a bug or an unexpected answer
  kUsage = 2,            // usage or configuration error, malformed source
  kMigrationFailed = 3,  // a migration failed and was rolled back
  kDrift = 4,            // checksum mismatch, missing or out-of-order file
  kLock = 5,             // lock not obtained, lock timeout retries exhausted, fenced out
  kNeedsRepair = 6,      // a failed non-transactional migration needs repair
  kConnect = 7,          // cannot connect to the database
  kInterrupted = 8,      // SIGTERM/SIGINT: the statement in flight was cancelled, rolled back
};

enum class RecordState {
  kApplied,  // committed
  kFailed,   // a non-transactional migration failed part-way
  kRunning,  // a non-transactional migration started and never finished (crash)
};

std::string_view RecordStateName(RecordState s);
bool ParseRecordState(std::string_view text, RecordState* out);

struct AppliedRecord {
  int64_t version = 0;
  std::string name;
  std::string checksum;
  RecordState state = RecordState::kApplied;
  bool no_transaction = false;
  bool baseline = false;
  std::string applied_at;  // RFC 3339 UTC
  int64_t execution_ms = 0;
  std::string applied_by;
  std::string runner_version;
  int64_t fence_token = 0;  // 0 when the run had none
  // Failure details (state kFailed / kRunning).
  std::string sqlstate;
  std::string error_message;
  std::string failed_statement;
  int statements_done = 0;
};

}  // namespace sg::migrate
