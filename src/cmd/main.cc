// schemagate: the single binary. Each subcommand lives in its own file and
// registers itself on the CLI11 app here.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cmd/controller_command.h"
#include "cmd/migrate_command.h"
#include "cmd/wait_command.h"

int main(int argc, char** argv) {
  CLI::App app{"schemagate: schema migrations as Kubernetes resources"};
  app.set_version_flag("--version", SCHEMAGATE_VERSION);
  app.require_subcommand(1);
  sg::cmd::MigrateCommand migrate(app);
  sg::cmd::ControllerCommand controller(app);
  sg::cmd::WaitCommand wait(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    // Usage error (2), as documented for every subcommand.
    if (argc > 1 && std::string(argv[1]) == "migrate") {
      return sg::cmd::MigrateCommand::UsageError(argc, argv, e.what());
    }
    return 2;
  }
  if (migrate.selected()) return migrate.Run();
  if (controller.selected()) return controller.Run();
  if (wait.selected()) return wait.Run();
  return 2;
}
