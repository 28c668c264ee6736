// `schemagate migrate ...`: the command-line face of the runner (CLI11 flags
// -> RunnerOptions, source loading, connection, output and exit codes).
//
// Thread-safety: registration and execution happen on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace sg::cmd {

// Adds the `migrate` subcommand and its verbs to `app`. After a successful
// app.parse(), RunMigrate() executes whichever verb was chosen and returns the
// process exit code.
class MigrateCommand {
 public:
  explicit MigrateCommand(CLI::App& app);
  ~MigrateCommand();
  MigrateCommand(const MigrateCommand&) = delete;
  MigrateCommand& operator=(const MigrateCommand&) = delete;

  bool selected() const;
  int Run();

  // A command line CLI11 refused (`message` already printed on stderr):
  // when it asked for `--output json` or a `--termination-log`, those get
  // their JSON document too, so a Job's usage error is never silent.
  // Returns the usage exit code, 2.
  static int UsageError(int argc, char** argv, const std::string& message);

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace sg::cmd
