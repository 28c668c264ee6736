#include "cmd/migrate_command.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <set>

#include "cmd/stop_signal.h"
#include "common/clock.h"
#include "common/duration.h"
#include "migrate/conninfo.h"
#include "migrate/migration.h"
#include "migrate/pg_store.h"
#include "migrate/report.h"
#include "migrate/runner.h"
#include "migrate/source.h"

namespace sg::cmd {

using migrate::ExitCode;
using migrate::Json;

struct MigrateCommand::Flags {
  CLI::App* migrate = nullptr;
  CLI::App *up = nullptr, *down = nullptr, *status = nullptr, *validate = nullptr, *plan = nullptr,
           *baseline = nullptr, *repair = nullptr, *create = nullptr;

  std::string dir = "./migrations";
  std::string database_url;
  std::string output = "text";
  std::string identity;
  std::string schema = "public";
  std::string table = "schemagate_migrations";
  std::string lock_timeout = "5s";
  std::string statement_timeout = "0";
  std::string lock_wait = "2m";
  std::string lock = "advisory";
  int lock_retries = 5;
  bool allow_out_of_order = false;
  bool verbose_errors = false;
  int64_t fence_token = 0;
  std::string termination_log;

  int64_t target = -1;
  int64_t down_to = -1;
  int down_steps = 0;
  bool down_all = false;
  int64_t baseline_version = 0;
  std::string new_name;
};

namespace {

std::string DefaultIdentity() {
  const char* pod = std::getenv("POD_NAME");
  std::string who;
  if (pod && *pod) {
    who = pod;
  } else {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    who = host;
  }
  return who + ":" + std::to_string(getpid());
}

// Turns a free-form name into the file name part: lower case, [a-z0-9_].
std::string Slug(const std::string& name) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

MigrateCommand::MigrateCommand(CLI::App& app) : flags_(std::make_unique<Flags>()) {
  Flags& f = *flags_;
  f.migrate = app.add_subcommand("migrate", "Apply and inspect PostgreSQL schema migrations");
  f.migrate->require_subcommand(1);
  CLI::App* m = f.migrate;
  m->add_option("--dir", f.dir, "Directory of <version>_<name>.up.sql/.down.sql files")
      ->capture_default_str();
  m->add_option("--database-url", f.database_url,
                "libpq URL or keyword string (default: $DATABASE_URL)")
      ->envname("DATABASE_URL");
  m->add_option("--output,-o", f.output, "text or json (one JSON document on stdout)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  m->add_option("--identity", f.identity,
                "Who applies (recorded per version; default: $POD_NAME or host, and pid)");
  // PostgreSQL truncates names at 63 bytes: a longer --table would silently
  // name another table, and <table>_fence two tables the same.
  auto name_bytes = [](size_t max, std::string what) {
    return CLI::Validator(
        [max, what](std::string& v) {
          if (v.empty()) return what + " must not be empty";
          if (v.size() > max) {
            return what + " is " + std::to_string(v.size()) + " bytes; at most " +
                   std::to_string(max) + " (PostgreSQL's 63-byte names" +
                   (max < 63 ? ", and the runner adds _fence)" : ")");
          }
          return std::string();
        },
        "NAME");
  };
  m->add_option("--schema", f.schema, "Schema of the tracking table")
      ->capture_default_str()
      ->check(name_bytes(63, "--schema"));
  m->add_option("--table", f.table, "Name of the tracking table")
      ->capture_default_str()
      ->check(name_bytes(57, "--table"));
  m->add_option("--lock-timeout", f.lock_timeout,
                "lock_timeout per migration (SET LOCAL); 0 disables")
      ->capture_default_str();
  m->add_option("--statement-timeout", f.statement_timeout,
                "statement_timeout per migration; 0 (default) means none");
  m->add_option("--lock-retries", f.lock_retries,
                "Retries after a lock timeout (SQLSTATE 55P03) or deadlock")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  m->add_option("--lock", f.lock,
                "advisory: poll a session advisory lock; none: the caller serialises runs "
                "(the operator's Lease)")
      ->check(CLI::IsMember({"advisory", "none"}))
      ->capture_default_str();
  m->add_option("--lock-wait", f.lock_wait, "How long to poll for the runner lock")
      ->capture_default_str();
  m->add_flag("--allow-out-of-order", f.allow_out_of_order,
              "Apply pending versions older than the newest applied one");
  m->add_flag("--verbose-errors", f.verbose_errors,
              "Print PostgreSQL's DETAIL of a failed statement on stderr (it may contain row "
              "values, so it never goes into the JSON report or the termination message)");
  m->add_option("--fence-token", f.fence_token,
                "Fencing token >= 1 (given by the operator): take the fence, and apply nothing "
                "once a higher token is recorded; required with --lock=none")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  m->add_option("--termination-log", f.termination_log,
                "Also write the compact JSON result here (a Kubernetes terminationMessagePath)");
  m->fallthrough();

  f.up = m->add_subcommand("up", "Apply pending migrations");
  // Versions are 0..kMaxVersion; -1 (the default) means "no target" and
  // must not be typed in: a negative --target once applied everything.
  const auto version_range = CLI::Range(int64_t{0}, migrate::kMaxVersion);
  f.up->add_option("--target", f.target, "Stop at this version (default: the newest)")
      ->check(version_range);
  f.down = m->add_subcommand("down", "Revert applied migrations with their .down.sql files");
  auto* to =
      f.down->add_option("--to", f.down_to, "Revert until this version is the newest applied")
          ->check(version_range);
  auto* steps = f.down->add_option("--steps", f.down_steps, "Revert this many versions")
                    ->check(CLI::Range(1, INT32_MAX));
  auto* all = f.down->add_flag("--all", f.down_all,
                               "Revert every applied version, version 0 too (--to 0 keeps it)");
  to->excludes(steps);
  all->excludes(to);
  all->excludes(steps);
  f.status = m->add_subcommand("status", "Show applied, pending, failed and drifted versions");
  f.validate = m->add_subcommand(
      "validate", "Check the files, and (with a database URL) drift against the database");
  f.plan = m->add_subcommand("plan", "Dry run: print what `up` would apply; writes nothing");
  f.plan->add_option("--target", f.target, "Stop at this version (default: the newest)")
      ->check(version_range);
  f.baseline = m->add_subcommand("baseline",
                                 "Adopt an existing database: record versions up to V as applied");
  f.baseline->add_option("version", f.baseline_version, "The version the database is already at")
      ->required()
      ->check(version_range);
  f.repair = m->add_subcommand(
      "repair", "Clear failed or interrupted records after the database was fixed by hand");
  f.create = m->add_subcommand("new", "Create a new <timestamp>_<name>.up.sql/.down.sql pair");
  f.create->add_option("name", f.new_name, "What the migration does, e.g. add_users")->required();
  for (CLI::App* verb :
       {f.up, f.down, f.status, f.validate, f.plan, f.baseline, f.repair, f.create}) {
    verb->fallthrough();
  }
}

MigrateCommand::~MigrateCommand() = default;

bool MigrateCommand::selected() const { return flags_->migrate->parsed(); }

namespace {

int CreateFiles(const std::string& dir, const std::string& raw_name, bool json) {
  std::string name = Slug(raw_name);
  auto emit_error = [&](const std::string& message) {
    if (json) {
      Json r = {{"command", "new"},
                {"ok", false},
                {"exit_code", 2},
                {"error", {{"reason", "InvalidInput"}, {"message", message}}}};
      std::cout << migrate::DumpReport(r) << "\n";
    } else {
      std::cerr << "schemagate migrate new: " << message << "\n";
    }
    return static_cast<int>(ExitCode::kUsage);
  };
  if (name.empty()) return emit_error("name \"" + raw_name + "\" has no letters or digits");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return emit_error("cannot create " + dir + ": " + ec.message());
  // Existing versions (well-formed names only; malformed ones are validate's job).
  int64_t newest = 0;
  std::set<int64_t> taken;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (auto parsed = migrate::ParseFileName(e.path().filename().string())) {
      taken.insert(parsed->version);
      newest = std::max(newest, parsed->version);
    }
  }
  if (ec) return emit_error("cannot read " + dir + ": " + ec.message());
  std::time_t now = std::chrono::system_clock::to_time_t(Clock::Real()->WallNow());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
  int64_t version = std::stoll(stamp);
  // Never collide, and always sort after what exists.
  if (version <= newest) version = newest + 1;
  while (taken.count(version)) ++version;
  if (version > migrate::kMaxVersion) {
    return emit_error("the newest version in " + dir + " is " + std::to_string(newest) +
                      ": no version after it fits 18 digits");
  }
  std::string base = dir + "/" + std::to_string(version) + "_" + name;
  for (const char* suffix : {".up.sql", ".down.sql"}) {
    std::string path = base + suffix;
    std::ofstream out(path, std::ios::out | std::ios::trunc);
    out << "-- " << name << (std::string(suffix) == ".up.sql" ? " (up)" : " (down: reverts up)")
        << "\n";
    if (!out) return emit_error("cannot write " + path);
  }
  if (json) {
    Json r = {{"command", "new"},
              {"ok", true},
              {"exit_code", 0},
              {"version", version},
              {"files", {base + ".up.sql", base + ".down.sql"}}};
    std::cout << migrate::DumpReport(r) << "\n";
  } else {
    std::cout << base << ".up.sql\n" << base << ".down.sql\n";
  }
  return 0;
}

}  // namespace

int MigrateCommand::UsageError(int argc, char** argv, const std::string& message) {
  // The flags were not parsed: read the two that matter from argv as given.
  bool json = false;
  std::string termination_log, command;
  static const std::set<std::string> kVerbs = {"up",   "down",     "status", "validate",
                                               "plan", "baseline", "repair", "new"};
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    std::string next = i + 1 < argc ? argv[i + 1] : "";
    if ((a == "--output" || a == "-o") && next == "json") json = true;
    if (a == "--output=json" || a == "-ojson") json = true;
    if (a == "--termination-log") termination_log = next;
    if (a.starts_with("--termination-log=")) termination_log = a.substr(18);
    if (command.empty() && kVerbs.count(a)) command = a;
  }
  Json r = {
      {"command", command},
      {"ok", false},
      {"exit_code", static_cast<int>(ExitCode::kUsage)},
      {"error",
       {{"reason", std::string(migrate::DefaultReason(ExitCode::kUsage))}, {"message", message}}}};
  if (json) std::cout << migrate::DumpReport(r) << "\n";
  if (!termination_log.empty()) {
    std::ofstream tl(termination_log, std::ios::out | std::ios::trunc);
    tl << migrate::CompactReport(r);
  }
  return static_cast<int>(ExitCode::kUsage);
}

int MigrateCommand::Run() {
  Flags& f = *flags_;
  const bool json = f.output == "json";
  std::string command;
  for (auto* verb : {f.up, f.down, f.status, f.validate, f.plan, f.baseline, f.repair, f.create}) {
    if (verb->parsed()) command = verb->get_name();
  }

  auto emit = [&](migrate::Outcome out) {
    if (json) {
      std::cout << migrate::DumpReport(out.report) << "\n";
    } else {
      std::string text = migrate::HumanReport(out.report);
      (out.code == ExitCode::kOk ? std::cout : std::cerr) << text;
    }
    if (!f.termination_log.empty()) {
      std::ofstream tl(f.termination_log, std::ios::out | std::ios::trunc);
      tl << migrate::CompactReport(out.report);
      tl.close();
      // Said, not fatal: the verb's own outcome stands, but an operator
      // reading the message would otherwise learn nothing at all.
      if (!tl) {
        std::cerr << "schemagate migrate: cannot write the termination log " << f.termination_log
                  << "\n";
      }
    }
    return static_cast<int>(out.code);
  };
  auto fail = [&](ExitCode code, const std::string& message, const std::string& reason = "") {
    migrate::Outcome out;
    out.code = code;
    out.report = {{"command", command},
                  {"ok", false},
                  {"exit_code", static_cast<int>(code)},
                  {"error",
                   {{"reason", reason.empty() ? std::string(migrate::DefaultReason(code)) : reason},
                    {"message", message}}}};
    return emit(std::move(out));
  };

  if (f.create->parsed()) return CreateFiles(f.dir, f.new_name, json);

  const bool writes =
      f.up->parsed() || f.down->parsed() || f.baseline->parsed() || f.repair->parsed();
  if (writes && f.lock == "none" && f.fence_token <= 0) {
    return fail(ExitCode::kUsage,
                "--lock=none needs --fence-token N (N >= 1): without the runner lock and the "
                "fence nothing keeps two runs apart");
  }
  // Before any thread starts (the loader below): SIGTERM/SIGINT cancel the
  // statement in flight and end the verb with exit code 8.
  Json interrupted = {{"command", command},
                      {"ok", false},
                      {"exit_code", static_cast<int>(ExitCode::kInterrupted)},
                      {"error",
                       {{"reason", "Interrupted"},
                        {"message",
                         "interrupted (SIGTERM or SIGINT) and not stopped within 1.5 s; the "
                         "server rolls back what was open when the connection closed"}}}};
  StopOnSignal stop_on_signal(f.termination_log, migrate::DumpReport(interrupted));

  migrate::RunnerOptions options;
  auto duration = [&](const std::string& flag, const std::string& text,
                      std::optional<std::chrono::milliseconds>* out) -> bool {
    auto d = ParseDuration(text);
    if (!d.ok()) {
      fail(ExitCode::kUsage, flag + ": " + d.status().message());
      return false;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    *out = ms.count() == 0 ? std::nullopt : std::optional(ms);
    return true;
  };
  if (!duration("--lock-timeout", f.lock_timeout, &options.lock_timeout)) return 2;
  if (!duration("--statement-timeout", f.statement_timeout, &options.statement_timeout)) return 2;
  std::optional<std::chrono::milliseconds> lock_wait;
  if (!duration("--lock-wait", f.lock_wait, &lock_wait)) return 2;
  options.lock_wait = lock_wait.value_or(std::chrono::milliseconds(0));
  options.lock_retries = f.lock_retries;
  options.lock = f.lock == "none" ? migrate::LockMode::kNone : migrate::LockMode::kAdvisory;
  options.allow_out_of_order = f.allow_out_of_order;
  options.fence_token = f.fence_token;
  options.stop = stop_on_signal.stop();
  options.verbose_errors = f.verbose_errors;

  // Reading the files overlaps with connecting (TCP and SCRAM): with
  // thousands of files both take tens of milliseconds.
  auto loading = std::async(std::launch::async, [&] { return migrate::LoadSource(f.dir); });
  const bool need_db = !(f.validate->parsed() && f.database_url.empty());
  std::optional<StatusOr<migrate::ConnInfo>> conn;
  std::optional<StatusOr<std::unique_ptr<migrate::PgStore>>> store;
  if (need_db) {
    conn.emplace(migrate::ConnInfo::Parse(f.database_url));
    if (conn->ok()) {
      migrate::PgStoreOptions store_options;
      store_options.schema = f.schema;
      store_options.table = f.table;
      store_options.identity = f.identity.empty() ? DefaultIdentity() : f.identity;
      store_options.runner_version = SCHEMAGATE_VERSION;
      store_options.read_only = f.plan->parsed() || f.status->parsed() || f.validate->parsed();
      store_options.stop = stop_on_signal.stop();
      store.emplace(migrate::PgStore::Connect(**conn, store_options));
    }
  }
  auto source = loading.get();
  if (!source.ok()) {
    return fail(ExitCode::kUsage, source.status().message(), "InvalidSource");
  }

  if (!need_db) {
    migrate::Outcome out;
    out.report = {{"command", "validate"},
                  {"ok", true},
                  {"exit_code", 0},
                  {"migrations", source->migrations.size()},
                  {"latest_version", source->Latest()}};
    if (!json) {
      std::cout << source->migrations.size() << " migration(s) in " << f.dir
                << " are well-formed (latest " << source->Latest()
                << "); pass --database-url to check drift\n";
      return 0;
    }
    return emit(std::move(out));
  }

  if (!conn->ok()) return fail(ExitCode::kUsage, conn->status().message(), "InvalidDatabaseURL");
  if (!store->ok()) {
    ExitCode code =
        store->status().code() == Code::kUnavailable ? ExitCode::kConnect : ExitCode::kUsage;
    return fail(code, store->status().message());
  }

  auto progress = [&](const std::string& line) { std::cerr << "schemagate: " << line << "\n"; };
  stop_on_signal.SetStore((*store)->get());
  struct Detach {
    StopOnSignal* s;
    ~Detach() { s->SetStore(nullptr); }
  } detach{&stop_on_signal};  // destroyed before the store
  migrate::Runner runner((*store)->get(), Clock::Real(), options, progress);
  auto target = f.target >= 0 ? std::optional<int64_t>(f.target) : std::nullopt;
  migrate::Outcome out;
  if (f.up->parsed()) {
    out = runner.Up(*source, target);
  } else if (f.down->parsed()) {
    out =
        runner.Down(*source, f.down_to >= 0 ? std::optional<int64_t>(f.down_to) : std::nullopt,
                    f.down_steps > 0 ? std::optional<int>(f.down_steps) : std::nullopt, f.down_all);
  } else if (f.status->parsed()) {
    out = runner.Status(*source);
  } else if (f.validate->parsed()) {
    out = runner.Validate(*source);
  } else if (f.plan->parsed()) {
    out = runner.Plan(*source, target);
  } else if (f.baseline->parsed()) {
    out = runner.Baseline(*source, f.baseline_version);
  } else {
    out = runner.Repair();
  }
  out.report["database"] = (*conn)->display();
  return emit(std::move(out));
}

}  // namespace sg::cmd
