// `schemagate migrate ...`: the command-line face of the runner (CLI11 flags
// -> RunnerOptions, source loading, connection, output and exit codes).
//
// Thread-safety: registration and execution happen on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

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

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace sg::cmd
