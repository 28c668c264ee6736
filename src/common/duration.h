// Durations as people write them on command lines and in specs: "500ms",
// "5s", "2m", "1h30m", "0" (Go's time.ParseDuration subset: ns, us, ms, s, m, h).
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sg {

// Parses `text`; the error message names the text and what was expected.
StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// The shortest exact rendering: 1500ms -> "1.5s", 120s -> "2m", 0 -> "0s".
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace sg
