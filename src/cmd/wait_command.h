// `schemagate wait <namespace>/<name>`: blocks until a SchemaMigration is
// Ready (for the current generation, with appliedVersion >= --min-version).
// Meant for init containers of Deployments that need the schema; watches,
// never polls. The decision and the watch loop live in observe/wait; this is
// the command-line face: flags, config loading, progress lines, exit codes:
//
//   0  ready
//   1  interrupted (SIGTERM/SIGINT)
//   2  usage or configuration error (bad flags, no kubeconfig)
//   3  --timeout expired
//   4  Stalled=True and --fail-on-stalled
//   6  the API server refused us repeatedly (401/403, or 404: CRD missing)
//   7  the API server could not be reached after retries
//
// Thread-safety: registration and Run() on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

namespace sg::cmd {

class WaitCommand {
 public:
  explicit WaitCommand(CLI::App& app);
  ~WaitCommand();
  WaitCommand(const WaitCommand&) = delete;
  WaitCommand& operator=(const WaitCommand&) = delete;

  bool selected() const;
  int Run();

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace sg::cmd
