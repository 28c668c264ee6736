// Report: the one JSON document each runner invocation produces (`--output
// json`, the Job's termination message, the operator's input), plus the
// reason names that pair with exit codes. Field names are a stable contract:
// docs/runner.md lists them.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "migrate/planner.h"
#include "migrate/record.h"
#include "migrate/source.h"
#include "migrate/store.h"

namespace sg::migrate {

using Json = nlohmann::ordered_json;

// "MigrationFailed", "Drift", "LockTimeout", ... (CamelCase, usable as a
// Kubernetes condition reason).
std::string_view DefaultReason(ExitCode code);

Json MigrationJson(const Migration& m);
Json RecordJson(const AppliedRecord& r);
Json DriftJson(const Drift& d);
Json FailureJson(const SqlFailure& f);

// The report as one line of JSON. Total: file names, SQL and server
// messages are bytes, JSON is UTF-8 text, so a byte sequence that is not
// UTF-8 becomes U+FFFD instead of an exception.
std::string DumpReport(const Json& report);

// A compact rendering that fits Kubernetes' 4 KiB termination message: long
// strings are cut (on character boundaries) and the applied/pending lists
// shortened (counts are kept). Total, like DumpReport.
std::string CompactReport(const Json& report, size_t limit = 4096);

// A multi-line human rendering of the report.
std::string HumanReport(const Json& report);

}  // namespace sg::migrate
