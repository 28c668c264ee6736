// schemagate: the single binary; subcommands register themselves here.
#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"schemagate: schema migrations as Kubernetes resources"};
  app.set_version_flag("--version", SCHEMAGATE_VERSION);
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
