// Bench support: the pieces of runner_bench that are not the measurement plan
// itself — generating migration sets and the psql "floor" script, running a
// child process under a stopwatch, summarising samples, and counting the
// statements (round trips) a PostgreSQL server logged.
//
// Everything here reports; nothing asserts on time. Failures (a child that
// exits non-zero, an unwritable file) throw std::runtime_error: a benchmark
// whose run failed has no figure worth printing.
//
// Thread-safety: free functions without shared state; call from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "support/subprocess.h"

namespace sg::bench {

// What each generated migration does.
enum class MigrationShape {
  kTableIndexRows,  // CREATE TABLE, CREATE INDEX, two INSERTs (the workload)
  kTiny,            // one trivial statement (for status at scale)
};

// Writes `count` up files <version>_<name>.up.sql (versions 1..count) into
// `dir` (created if missing) and returns their paths in version order.
std::vector<std::string> WriteMigrationSet(const std::string& dir, int count, MigrationShape shape);

// Writes one psql script that runs each file in its own transaction
// (BEGIN; \i file; COMMIT;) — the floor the runner is measured against.
void WritePsqlScript(const std::string& path, const std::vector<std::string>& files);

// The psql binary: `explicit_path` if set, else the newest
// /usr/lib/postgresql/*/bin/psql, else "psql" from PATH.
std::string FindPsql(const std::string& explicit_path);

// Wall time of a child from just before fork to just after it was reaped
// (process start, connection and teardown included, as a user sees it), and
// the CPU time the child itself used (user + system): the latter hardly
// moves when other work shares the machine, the former does.
struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

// Runs argv to completion and times it. `env` is added to the child's
// environment (connection settings travel there, never in argv, so no
// password shows up in an error message). Throws when the child does not
// exit 0, with the tail of its output in the message.
Timing TimeCommand(Clock* clock, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env,
                   testing::RunResult* result = nullptr);

struct Summary {
  double median = 0;
  double min = 0;
  double max = 0;
};
Summary Summarize(std::vector<double> samples);

// Size of a file in bytes (0 when missing): a log offset to count from.
int64_t FileSize(const std::string& path);
// Statements the server logged (log_statement=all) after byte `offset` of
// its log: one line per simple query or extended-protocol execute, i.e. one
// per round trip that ran SQL.
int CountLoggedStatements(const std::string& log_path, int64_t offset);

// "1.23" with `digits` decimals.
std::string Fixed(double value, int digits);

}  // namespace sg::bench
