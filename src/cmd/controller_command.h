// `schemagate controller`: runs the SchemaMigration controller, in-cluster
// or with a kubeconfig (docs/controller.md). Exit codes: 0 after SIGTERM or
// SIGINT (leader Lease released), 1 when leadership was lost or the
// controller failed, 2 for usage or configuration errors.
//
// Thread-safety: registration and execution on the main thread; signals are
// taken by a dedicated thread (sigwait).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

namespace sg::cmd {

class ControllerCommand {
 public:
  explicit ControllerCommand(CLI::App& app);
  ~ControllerCommand();
  ControllerCommand(const ControllerCommand&) = delete;
  ControllerCommand& operator=(const ControllerCommand&) = delete;

  bool selected() const;
  int Run();

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace sg::cmd
