// PgServer: a real, throw-away PostgreSQL server for tests and benchmarks.
//
// Start() runs initdb into a fresh temporary directory and starts `postgres`
// listening on 127.0.0.1 at a free port (and a unix socket in that
// directory), with password (SCRAM) authentication over TCP for the
// superuser `postgres` whose password is kPassword. When the process runs as
// root, the server runs as the `postgres` system user (PostgreSQL refuses
// root). The destructor stops the server it started (by PID) and removes the
// directory. If the test process dies without running it (a crash, a ctest
// timeout's SIGKILL), the server gets SIGINT (fast shutdown) from the kernel
// as the process that started it goes away, so no server outlives its test.
//
// Binaries: $SG_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin.
// Thread-safety: CreateDatabase may be called from several threads.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace sg::testing {

class PgServer {
 public:
  static constexpr const char* kPassword = "s3cret-pg-pass";

  struct Options {
    // More `name=value` server settings, passed as `-c` after the defaults.
    std::vector<std::string> settings;
  };

  // Throws std::runtime_error with the server log on failure (tests only).
  static std::unique_ptr<PgServer> Start() { return Start(Options{}); }
  static std::unique_ptr<PgServer> Start(const Options& options);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // The directory of the server's binaries (psql, pg_dump beside postgres).
  const std::string& bindir() const { return bindir_; }
  // The server's log; each line starts with "<application_name>|".
  std::string log_path() const { return dir_ + "/server.log"; }
  // postgresql://postgres:<password>@127.0.0.1:<port>/<db>?sslmode=disable
  std::string Url(const std::string& db = "postgres") const;
  // Creates a new empty database with a unique name; returns its URL.
  std::string CreateDatabase(const std::string& prefix = "t");

 private:
  PgServer() = default;
  std::string dir_;
  std::string bindir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// One server shared by every test of a test binary (started on first use).
PgServer& SharedPgServer();

}  // namespace sg::testing
