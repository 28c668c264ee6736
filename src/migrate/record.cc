#include "migrate/record.h"

namespace sg::migrate {

std::string_view RecordStateName(RecordState s) {
  switch (s) {
    case RecordState::kApplied:
      return "applied";
    case RecordState::kFailed:
      return "failed";
    case RecordState::kRunning:
      return "running";
  }
  return "applied";
}

bool ParseRecordState(std::string_view text, RecordState* out) {
  for (RecordState s : {RecordState::kApplied, RecordState::kFailed, RecordState::kRunning}) {
    if (RecordStateName(s) == text) {
      *out = s;
      return true;
    }
  }
  return false;
}

}  // namespace sg::migrate
