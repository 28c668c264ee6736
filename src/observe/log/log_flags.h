// LogFlags: the `--log-level` and `--log-format` flags every long-running
// subcommand shares, so they read the same everywhere:
//
//   observe::LogFlags log_flags;
//   observe::AddLogFlags(sub, &log_flags);
//   ... after parse:
//   SG_ASSIGN_OR_RETURN(observe::Logger log, log_flags.NewLogger(clock));
//
// Thread-safety: registration and NewLogger on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "observe/log/log.h"

namespace sg::observe {

struct LogFlags {
  std::string level = "info";
  std::string format = "text";

  StatusOr<Logger> NewLogger(Clock* clock = Clock::Real()) const {
    return observe::NewLogger(level, format, clock);
  }
};

inline void AddLogFlags(CLI::App* app, LogFlags* flags) {
  app->add_option("--log-level", flags->level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error"}, CLI::ignore_case));
  app->add_option("--log-format", flags->format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}, CLI::ignore_case));
}

}  // namespace sg::observe
