#include "cmd/wait_command.h"

#include <signal.h>

#include <memory>
#include <mutex>
#include <thread>

#include "common/duration.h"
#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/watch/lister_watcher.h"
#include "observe/log/log.h"
#include "observe/log/log_flags.h"
#include "observe/wait/migration_waiter.h"

namespace sg::cmd {

namespace {

constexpr int kExitReady = 0;
constexpr int kExitInterrupted = 1;
constexpr int kExitUsage = 2;
constexpr int kExitTimeout = 3;
constexpr int kExitStalled = 4;
constexpr int kExitApiRefused = 6;
constexpr int kExitApiUnreachable = 7;

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ready; 1 interrupted; 2 usage or configuration error; 3 --timeout expired; "
    "4 Stalled (with --fail-on-stalled); 6 API server refused (401/403, or 404: CRD not "
    "installed) after retries; 7 API server unreachable after retries.";

}  // namespace

struct WaitCommand::Flags {
  CLI::App* sub = nullptr;
  std::string target;
  std::int64_t min_version = 0;
  std::string timeout = "0";
  std::string kubeconfig;
  std::string context;
  bool fail_on_stalled = false;
  int max_api_failures = 8;
  observe::LogFlags log;
};

WaitCommand::WaitCommand(CLI::App& app) : flags_(std::make_unique<Flags>()) {
  Flags& f = *flags_;
  f.sub = app.add_subcommand("wait",
                             "Block until a SchemaMigration is Ready (init containers of dependent "
                             "workloads)");

  f.sub
      ->add_option("target", f.target,
                   "<namespace>/<name> of the SchemaMigration (a bare <name> uses the "
                   "kubeconfig context's namespace, in a pod the pod's namespace)")
      ->required();
  f.sub->add_option("--min-version", f.min_version,
                    "Also require status.appliedVersion >= this version");
  f.sub
      ->add_option("--timeout", f.timeout,
                   "Give up after this long (e.g. 90s, 10m); 0 waits forever")
      ->capture_default_str();
  f.sub->add_option("--kubeconfig", f.kubeconfig,
                    "Path to a kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  f.sub->add_option("--context", f.context, "Kubeconfig context to use");
  f.sub->add_flag("--fail-on-stalled", f.fail_on_stalled,
                  "Exit 4 when the migration is Stalled (needs a human) instead of waiting for "
                  "it to be fixed");
  f.sub
      ->add_option("--max-api-failures", f.max_api_failures,
                   "Consecutive failed list/watch attempts (backing off 0.8s..30s) before "
                   "exiting 6 or 7")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  observe::AddLogFlags(f.sub, &f.log);
  f.sub->footer(
      "Ready means: status.observedGeneration == metadata.generation, condition Ready=True for "
      "that generation, and status.appliedVersion >= --min-version. Watches the API server "
      "(list + watch on one object), never polls; returns at once when already Ready; waits for "
      "the object to appear. Needs get/list/watch on schemamigrations.schemagate.dev.\n\n" +
      std::string(kExitCodesHelp));
}

WaitCommand::~WaitCommand() = default;

bool WaitCommand::selected() const { return flags_->sub->parsed(); }

int WaitCommand::Run() {
  const Flags& f = *flags_;
  // Block SIGTERM/SIGINT before any thread exists (cpprestsdk's pool, the
  // watch stream): threads inherit the mask, so only our sigwait thread
  // below ever takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto logger_or = f.log.NewLogger();
  if (!logger_or.ok()) {
    std::fprintf(stderr, "schemagate wait: %s\n", logger_or.status().message().c_str());
    return kExitUsage;
  }
  observe::Logger log = logger_or->Named("wait");

  std::optional<Clock::Duration> timeout;
  auto t = ParseDuration(f.timeout);
  if (!t.ok()) {
    log.Error("bad --timeout", {{"error", t.status()}});
    return kExitUsage;
  }
  if (t->count() > 0) timeout = *t;

  kube::LoadOptions lo;
  lo.kubeconfig = f.kubeconfig;
  lo.context = f.context;
  auto config = kube::LoadRestConfig(lo);
  if (!config.ok()) {
    log.Error("cannot load the Kubernetes configuration", {{"error", config.status()}});
    return kExitUsage;
  }

  std::string ns, name;
  if (auto slash = f.target.find('/'); slash != std::string::npos) {
    ns = f.target.substr(0, slash);
    name = f.target.substr(slash + 1);
  } else {
    ns = config->namespace_.empty() ? "default" : config->namespace_;
    name = f.target;
  }
  if (ns.empty() || name.empty() || name.find('/') != std::string::npos) {
    log.Error("target must be <namespace>/<name> or <name>", {{"target", f.target}});
    return kExitUsage;
  }

  // Requests fail fast so an unreachable server is retried by the watcher's
  // backoff (and counted) rather than hanging in one call.
  kube::TransportOptions to;
  to.default_timeout = std::chrono::seconds(10);
  auto client = kube::NewClient(*config, to);
  if (!client.ok()) {
    log.Error("cannot create the Kubernetes client", {{"error", client.status()}});
    return kExitUsage;
  }
  kube::ClientListerWatcher lw(client->get(), kube::gvr::SchemaMigration(), ns);

  observe::WaitOptions wo;
  wo.name = name;
  if (f.sub->count("--min-version") > 0) wo.criteria.min_version = f.min_version;
  wo.timeout = timeout;
  wo.fail_on_stalled = f.fail_on_stalled;
  wo.max_api_failures = f.max_api_failures;
  observe::MigrationWaiter waiter(&lw, Clock::Real(), wo);

  observe::Logger target_log = log.With({{"namespace", ns}, {"name", name}});
  waiter.on_progress = [&](const observe::WaitDecision& d) { target_log.Info(d.detail); };
  waiter.on_api_error = [&](const Status& s, int n) {
    target_log.Warn("API request failed; retrying with backoff",
                    {{"error", s}, {"attempt", n}, {"max", f.max_api_failures}});
  };

  // SIGTERM/SIGINT cancel the wait (the kubelet stops init containers with
  // SIGTERM), taken by a thread so Cancel() runs in a normal context, not a
  // signal handler.
  struct SignalTarget {
    std::mutex mu;
    observe::MigrationWaiter* waiter = nullptr;
  };
  auto target = std::make_shared<SignalTarget>();
  target->waiter = &waiter;
  std::thread([target, signals] {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) return;
    std::lock_guard<std::mutex> l(target->mu);
    if (target->waiter) target->waiter->Cancel();
  }).detach();  // parked in sigwait until the process exits

  target_log.Info("waiting for SchemaMigration",
                  {{"minVersion", wo.criteria.min_version ? std::to_string(*wo.criteria.min_version)
                                                          : std::string("any")},
                   {"timeout", timeout ? FormatDuration(*timeout) : std::string("none")}});
  observe::WaitResult r = waiter.Wait();
  {
    std::lock_guard<std::mutex> l(target->mu);
    target->waiter = nullptr;  // a late signal must not touch a dead waiter
  }
  switch (r.outcome) {
    case observe::WaitOutcome::kReady:
      target_log.Info("SchemaMigration is ready", {{"detail", r.last.detail}});
      return kExitReady;
    case observe::WaitOutcome::kTimeout:
      target_log.Error("timed out",
                       {{"timeout", FormatDuration(*timeout)}, {"last", r.last.detail}});
      return kExitTimeout;
    case observe::WaitOutcome::kStalled:
      target_log.Error("SchemaMigration is Stalled: a human must act", {{"detail", r.last.detail}});
      return kExitStalled;
    case observe::WaitOutcome::kApiRefused:
      target_log.Error(
          "the API server refused the request; check RBAC (get/list/watch on "
          "schemamigrations.schemagate.dev) and that the CRD is installed",
          {{"error", r.last_error}});
      return kExitApiRefused;
    case observe::WaitOutcome::kApiUnreachable:
      target_log.Error("cannot reach the API server", {{"error", r.last_error}});
      return kExitApiUnreachable;
    case observe::WaitOutcome::kCancelled:
      target_log.Warn("interrupted", {{"last", r.last.detail}});
      return kExitInterrupted;
  }
  return kExitInterrupted;
}

}  // namespace sg::cmd
