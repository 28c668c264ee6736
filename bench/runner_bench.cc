// runner_bench: how fast `schemagate migrate` is against a real PostgreSQL,
// relative to the floor (the same files through one psql session, one
// BEGIN/COMMIT per file), and how `status`/`up` scale with 10,000 applied
// versions. It prints figures; it asserts nothing about time (issue 2,
// "Benchmark"). Every run is checked for correctness (exit code, tables and
// tracking rows present) so a fast failure is never reported as a figure.
//
//   build-bench/bench/runner_bench [--migrations N] [--rounds R]
//       [--status-versions M] [--status-runs K] [--skip-apply] [--skip-status]
//
// Starts its own throw-away server (tests/support/pg_server.h); generated
// files live in a temporary directory removed at exit.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "support/pg_server.h"

namespace sg::bench {
namespace {

using Env = std::map<std::string, std::string>;

struct Options {
  int migrations = 1000;
  int rounds = 3;
  int status_versions = 10000;
  int status_runs = 9;
  int roundtrip_sample = 10;
  bool skip_apply = false;
  bool skip_status = false;
  bool skip_roundtrips = false;
  std::string schemagate = SG_SCHEMAGATE_PATH;
  std::string psql;
};

// The machine's load average: other work on a shared machine moves the wall
// times, so the report says how busy it was.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// A fresh database on the bench server, dropped when the object goes away.
class ScratchDb {
 public:
  ScratchDb(testing::PgServer& server, const std::string& prefix)
      : server_(server), url_(server.CreateDatabase(prefix)) {
    name_ = url_.substr(url_.rfind('/') + 1);
    name_ = name_.substr(0, name_.find('?'));
  }
  ~ScratchDb() {
    try {
      pqxx::connection c(server_.Url());
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
      std::cerr << "warning: dropping " << name_ << ": " << e.what() << "\n";
    }
  }
  ScratchDb(const ScratchDb&) = delete;
  ScratchDb& operator=(const ScratchDb&) = delete;

  const std::string& name() const { return name_; }
  // For the runner: DATABASE_URL. For psql: libpq's PG* variables.
  Env RunnerEnv() const { return {{"DATABASE_URL", url_}}; }
  Env PsqlEnv() const {
    return {{"PGHOST", "127.0.0.1"}, {"PGPORT", std::to_string(server_.port())},
            {"PGUSER", "postgres"},  {"PGPASSWORD", testing::PgServer::kPassword},
            {"PGDATABASE", name_},   {"PGSSLMODE", "disable"}};
  }
  int64_t Count(const std::string& sql) const {
    pqxx::connection c(url_);
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  void Exec(const std::string& sql) const {
    pqxx::connection c(server_.Url());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }

 private:
  testing::PgServer& server_;
  std::string url_;
  std::string name_;
};

const char* kBenchTables =
    "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'bench\\_t%'";
const char* kAppliedRows = "SELECT count(*) FROM schemagate_migrations WHERE state = 'applied'";

void Expect(int64_t got, int64_t want, const std::string& what) {
  if (got != want) {
    throw std::runtime_error(what + ": expected " + std::to_string(want) + ", found " +
                             std::to_string(got));
  }
}

// One way of applying a migration set to a fresh database.
struct Variant {
  std::string label;
  std::vector<std::string> argv;
  bool runner = true;
};

std::vector<Variant> ApplyVariants(const Options& o, const std::string& dir,
                                   const std::string& script) {
  return {
      {"runner", {o.schemagate, "migrate", "up", "--dir", dir}, true},
      {"psql", {FindPsql(o.psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script}, false},
      {"runner --lock none",
       {o.schemagate, "migrate", "up", "--lock", "none", "--fence-token", "1", "--dir", dir},
       true},
  };
}

// Applies `v` to a fresh database, checks the result, returns the timing.
Timing ApplyOnce(testing::PgServer& server, const Variant& v, int count) {
  ScratchDb db(server, "apply");
  Timing t = TimeCommand(Clock::Real(), v.argv, v.runner ? db.RunnerEnv() : db.PsqlEnv());
  Expect(db.Count(kBenchTables), count, v.label + ": bench tables");
  Expect(db.Count("SELECT count(*) FROM bench_t" + std::to_string(count)), 2,
         v.label + ": rows in the last table");
  if (v.runner) Expect(db.Count(kAppliedRows), count, v.label + ": tracking rows");
  return t;
}

void BenchApply(testing::PgServer& server, const Options& o, const std::string& work) {
  const std::string dir = work + "/apply";
  const std::string script = work + "/apply.psql";
  WritePsqlScript(script, WriteMigrationSet(dir, o.migrations, MigrationShape::kTableIndexRows));
  std::vector<Variant> variants = ApplyVariants(o, dir, script);
  // Wall and client CPU time per migration, per variant.
  std::vector<std::vector<double>> wall(variants.size()), cpu(variants.size());
  std::cout << "apply " << o.migrations
            << " migrations (CREATE TABLE, CREATE INDEX, 2 INSERTs each), " << o.rounds
            << " rounds, a fresh database per run\n";
  for (int round = 0; round < o.rounds; ++round) {
    // Rotate the order so no variant always runs first (cold caches) or last.
    std::vector<std::string> parts(variants.size());
    for (size_t k = 0; k < variants.size(); ++k) {
      size_t i = (k + round) % variants.size();
      Timing t = ApplyOnce(server, variants[i], o.migrations);
      wall[i].push_back(t.wall_ms / o.migrations);
      cpu[i].push_back(t.cpu_ms / o.migrations);
      parts[i] = variants[i].label + " " + Fixed(t.wall_ms / o.migrations, 3);
    }
    std::cout << "  round " << round + 1 << ":";
    for (const auto& p : parts) std::cout << "  " << p;
    std::cout << "  ms/migration\n";
  }
  Summary runner = Summarize(wall[0]);
  Summary floor = Summarize(wall[1]);
  Summary nolock = Summarize(wall[2]);
  std::cout << "apply  runner " << Fixed(runner.median, 3) << " ms/migration  psql "
            << Fixed(floor.median, 3) << " ms/migration  ratio "
            << Fixed(runner.median / floor.median, 2) << " (target <= 1.2)\n";
  std::cout << "apply  runner --lock none " << Fixed(nolock.median, 3) << " ms/migration  ratio "
            << Fixed(nolock.median / floor.median, 2) << "\n";
  std::cout << "client cpu (the child process only)  runner " << Fixed(Summarize(cpu[0]).median, 3)
            << " ms/migration  psql " << Fixed(Summarize(cpu[1]).median, 3)
            << " ms/migration  runner --lock none " << Fixed(Summarize(cpu[2]).median, 3)
            << " ms/migration\n";
}

// Statements the server saw for one run of `v` on a fresh database.
int CountRoundTrips(testing::PgServer& server, const Variant& v) {
  ScratchDb db(server, "trips");
  db.Exec("ALTER DATABASE " + db.name() + " SET log_statement = 'all'");
  const std::string log = server.dir() + "/server.log";
  int64_t offset = FileSize(log);
  TimeCommand(Clock::Real(), v.argv, v.runner ? db.RunnerEnv() : db.PsqlEnv());
  return CountLoggedStatements(log, offset);
}

// Round trips per migration and per run, from two set sizes (the slope is
// the per-migration cost, the intercept the fixed cost of a run).
void BenchRoundTrips(testing::PgServer& server, const Options& o, const std::string& work) {
  const int small = o.roundtrip_sample, large = 2 * o.roundtrip_sample;
  std::map<int, std::vector<Variant>> sets;
  for (int n : {small, large}) {
    std::string dir = work + "/trips" + std::to_string(n);
    std::string script = dir + ".psql";
    WritePsqlScript(script, WriteMigrationSet(dir, n, MigrationShape::kTableIndexRows));
    sets[n] = ApplyVariants(o, dir, script);
  }
  std::cout << "round trips (statements logged by the server, log_statement=all)\n";
  for (size_t i = 0; i < sets[small].size(); ++i) {
    int a = CountRoundTrips(server, sets[small][i]);
    int b = CountRoundTrips(server, sets[large][i]);
    double slope = static_cast<double>(b - a) / (large - small);
    double fixed = a - slope * small;
    std::cout << "  " << sets[small][i].label << ": " << Fixed(slope, 1) << " per migration + "
              << Fixed(fixed, 0) << " per run\n";
  }
}

struct Measured {
  Summary wall;
  Summary cpu;
};

// Median of `runs` timings of each command, interleaved so that drift on a
// shared machine hits every command alike. One untimed warm-up each.
std::vector<Measured> TimeInterleaved(const std::vector<std::vector<std::string>>& argvs,
                                      const std::vector<Env>& envs, int runs) {
  std::vector<std::vector<double>> wall(argvs.size()), cpu(argvs.size());
  for (size_t i = 0; i < argvs.size(); ++i) TimeCommand(Clock::Real(), argvs[i], envs[i]);
  for (int r = 0; r < runs; ++r) {
    for (size_t i = 0; i < argvs.size(); ++i) {
      Timing t = TimeCommand(Clock::Real(), argvs[i], envs[i]);
      wall[i].push_back(t.wall_ms);
      cpu[i].push_back(t.cpu_ms);
    }
  }
  std::vector<Measured> out;
  for (size_t i = 0; i < argvs.size(); ++i) {
    out.push_back({Summarize(std::move(wall[i])), Summarize(std::move(cpu[i]))});
  }
  return out;
}

std::string Ms(const Measured& m) {
  return Fixed(m.wall.median, 1) + " ms (min " + Fixed(m.wall.min, 1) + ", max " +
         Fixed(m.wall.max, 1) + "; client cpu " + Fixed(m.cpu.median, 1) + " ms)";
}

void BenchStatus(testing::PgServer& server, const Options& o, const std::string& work) {
  const int m = o.status_versions;
  const std::string dir = work + "/status";
  const std::string empty = work + "/empty";
  WriteMigrationSet(dir, m, MigrationShape::kTiny);
  std::filesystem::create_directories(empty);
  ScratchDb big(server, "status");
  ScratchDb fresh(server, "empty");

  double fill =
      TimeCommand(Clock::Real(), {o.schemagate, "migrate", "up", "--dir", dir}, big.RunnerEnv())
          .wall_ms;
  Expect(big.Count(kAppliedRows), m, "status fill: tracking rows");
  std::cout << "status at scale: " << m << " tiny migrations applied by the runner in "
            << Fixed(fill / 1000, 1) << " s (" << Fixed(fill / m, 3) << " ms/migration); median of "
            << o.status_runs << " runs each\n";

  const std::string& sg = o.schemagate;
  std::vector<std::vector<std::string>> argvs = {
      {sg, "--version"},
      {sg, "migrate", "status", "--dir", empty},
      {sg, "migrate", "status", "--dir", dir},
      {sg, "migrate", "status", "--output", "json", "--dir", dir},
      {sg, "migrate", "up", "--dir", dir},
      {sg, "migrate", "validate", "--dir", dir},
  };
  std::vector<Env> envs = {{}, fresh.RunnerEnv(), big.RunnerEnv(), big.RunnerEnv(), big.RunnerEnv(),
                           {}};
  std::vector<Measured> t = TimeInterleaved(argvs, envs, o.status_runs);
  Expect(big.Count(kAppliedRows), m, "after up with nothing pending: tracking rows");

  std::cout << "  process start (schemagate --version): " << Ms(t[0]) << "\n";
  std::cout << "  baseline: status, empty dir, fresh database (start + connect + 1 query): "
            << Ms(t[1]) << "\n";
  std::cout << "  files only: validate without a database (start + read + hash " << m
            << " files): " << Ms(t[5]) << "\n";
  std::cout << "  status -o json: " << Ms(t[3]) << "\n";
  std::cout << "  up, nothing pending: " << Ms(t[4]) << "\n";
  std::cout << "status " << m << " applied: " << Fixed(t[2].wall.median, 1)
            << " ms (target < 100 ms; " << Fixed(t[2].wall.median - t[1].wall.median, 1)
            << " ms above the empty baseline; client cpu " << Fixed(t[2].cpu.median, 1) << " ms)\n";
  std::cout << "up     " << m << " applied, nothing pending: " << Fixed(t[4].wall.median, 1)
            << " ms (target < 100 ms; " << Fixed(t[4].wall.median - t[1].wall.median, 1)
            << " ms above the empty baseline; client cpu " << Fixed(t[4].cpu.median, 1) << " ms)\n";
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"runner_bench: schemagate migrate against the psql floor, and status at scale"};
  app.add_option("--migrations", o.migrations, "Migrations per apply run")
      ->check(CLI::Range(2, 1000000))
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "Apply rounds (runner and psql alternate)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--status-versions", o.status_versions, "Applied versions for the status test")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--status-runs", o.status_runs, "Timed runs per status command")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--roundtrip-sample", o.roundtrip_sample,
                 "Migrations in the smaller round-trip count run")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--schemagate", o.schemagate, "The schemagate binary")->capture_default_str();
  app.add_option("--psql", o.psql, "The psql binary (default: newest server's, else PATH)");
  app.add_flag("--skip-apply", o.skip_apply, "Skip the apply comparison");
  app.add_flag("--skip-status", o.skip_status, "Skip status at scale");
  app.add_flag("--skip-roundtrips", o.skip_roundtrips, "Skip counting round trips");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows up when redirected too

  auto server = testing::PgServer::Start();
  char tmpl[] = "/tmp/sg-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string work = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{work};

  std::cout << "server: PostgreSQL " << [&] {
    pqxx::connection c(server->Url());
    return std::to_string(c.server_version());
  }() << " on 127.0.0.1 (fsync=off, synchronous_commit=off: both sides alike)\n";
  std::cout << "runner: " << o.schemagate << "\npsql:   " << FindPsql(o.psql) << "\n";
  std::cout << "cores: " << std::thread::hardware_concurrency() << ", load average "
            << LoadAverage() << "\n";
  if (!o.skip_apply) BenchApply(*server, o, work);
  if (!o.skip_roundtrips) BenchRoundTrips(*server, o, work);
  if (!o.skip_status) BenchStatus(*server, o, work);
  std::cout << "load average at the end " << LoadAverage() << "\n";
  return 0;
}

}  // namespace
}  // namespace sg::bench

int main(int argc, char** argv) {
  try {
    return sg::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "runner_bench: " << e.what() << "\n";
    return 1;
  }
}
