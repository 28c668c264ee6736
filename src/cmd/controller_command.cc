#include "cmd/controller_command.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include "common/duration.h"
#include "controller/controller.h"
#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "observe/controller_metrics/controller_metrics.h"
#include "observe/http_server/http_server.h"
#include "observe/log/log_flags.h"
#include "observe/metrics/registry.h"

namespace sg::cmd {

struct ControllerCommand::Flags {
  CLI::App* cmd = nullptr;
  std::string kubeconfig;
  std::string context;
  std::string ns;
  std::string namespaces;
  bool leader_elect = true;
  std::string job_image;
  std::string metrics_addr = "127.0.0.1:8080";
  int workers = 2;
  std::string recheck_interval = "10m";
  std::string job_start_timeout = "60s";
  std::vector<std::string> allowed_image_prefixes;
  bool allow_service_account_name = false;
  observe::LogFlags log;
};

ControllerCommand::ControllerCommand(CLI::App& app) : flags_(std::make_unique<Flags>()) {
  Flags& f = *flags_;
  f.cmd = app.add_subcommand("controller", "Run the SchemaMigration controller");
  f.cmd->add_option("--kubeconfig", f.kubeconfig,
                    "kubeconfig file (default: $KUBECONFIG, "
                    "in-cluster, ~/.kube/config)");
  f.cmd->add_option("--context", f.context, "kubeconfig context");
  f.cmd->add_option("--namespace", f.ns,
                    "The operator's namespace (database and leader Leases; default: "
                    "$POD_NAMESPACE, the in-cluster namespace, or the kubeconfig's)");
  f.cmd->add_option("--namespaces", f.namespaces,
                    "Comma-separated namespaces to watch (default: all)");
  f.cmd->add_option("--leader-elect", f.leader_elect, "Elect a leader on a Lease")
      ->capture_default_str();
  f.cmd
      ->add_option("--job-image", f.job_image,
                   "Default runner image for Jobs (default: $SCHEMAGATE_JOB_IMAGE or "
                   "schemagate:dev)")
      ->envname("SCHEMAGATE_JOB_IMAGE");
  f.cmd
      ->add_option("--metrics-addr", f.metrics_addr,
                   "Address serving /metrics, /healthz and /readyz (':8080' = every "
                   "interface)")
      ->capture_default_str();
  f.cmd->add_option("--workers", f.workers, "Concurrent reconciles")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  f.cmd
      ->add_option("--recheck-interval", f.recheck_interval,
                   "Re-verify a Ready SchemaMigration this long after its last Job ended, "
                   "by running its Job again (a no-op unless the database drifted); 0 disables")
      ->capture_default_str();
  f.cmd
      ->add_option("--job-start-timeout", f.job_start_timeout,
                   "Give up on a Job whose pod cannot start (missing Secret, image pull error, "
                   "unschedulable) this long after it started: Stalled, Lease given back, "
                   "retried with backoff")
      ->capture_default_str();
  f.cmd
      ->add_option("--allowed-image-prefixes", f.allowed_image_prefixes,
                   "spec.job.image and spec.source.image.ref must start with one of these "
                   "(comma-separated); empty: any image (the --job-image is always allowed)")
      ->delimiter(',');
  f.cmd->add_flag("--allow-service-account-name", f.allow_service_account_name,
                  "Let SchemaMigrations set spec.job.serviceAccountName (refused by default: "
                  "creating a SchemaMigration is creating a pod)");
  observe::AddLogFlags(f.cmd, &f.log);
}

ControllerCommand::~ControllerCommand() = default;

bool ControllerCommand::selected() const { return flags_->cmd->parsed(); }

int ControllerCommand::Run() {
  Flags& f = *flags_;
  // Signals go to one thread that asks the controller to stop; block them
  // before any other thread exists so they inherit the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto logger = f.log.NewLogger();
  if (!logger.ok()) {
    std::fprintf(stderr, "schemagate controller: %s\n", logger.status().ToString().c_str());
    return 2;
  }
  observe::Logger log = logger->Named("controller");
  auto recheck = ParseDuration(f.recheck_interval);
  if (!recheck.ok() || *recheck < Clock::Duration::zero()) {
    std::fprintf(stderr, "schemagate controller: --recheck-interval: %s\n",
                 recheck.ok() ? "must not be negative" : recheck.status().message().c_str());
    return 2;
  }

  auto start_timeout = ParseDuration(f.job_start_timeout);
  if (!start_timeout.ok() || *start_timeout <= Clock::Duration::zero()) {
    std::fprintf(
        stderr, "schemagate controller: --job-start-timeout: %s\n",
        start_timeout.ok() ? "must be positive" : start_timeout.status().message().c_str());
    return 2;
  }

  kube::LoadOptions lo;
  lo.kubeconfig = f.kubeconfig;
  lo.context = f.context;
  auto config = kube::LoadRestConfig(lo);
  if (!config.ok()) {
    log.Error("cannot load the cluster configuration", {{"error", config.status()}});
    return 2;
  }
  auto client = kube::NewClient(*config);
  if (!client.ok()) {
    log.Error("cannot build the API client", {{"error", client.status()}});
    return 2;
  }
  // The queue depth is read at scrape time, from the controller once built.
  std::atomic<controller::Controller*> built{nullptr};
  observe::Registry registry;
  auto metrics = observe::ControllerMetrics::Register(&registry, [&built] {
    controller::Controller* c = built.load();
    return c ? static_cast<double>(c->QueueDepth()) : 0.0;
  });
  if (!metrics.ok()) {
    log.Error("cannot register metrics", {{"error", metrics.status()}});
    return 1;
  }
  controller::ControllerOptions o;
  o.reconciler.operator_namespace = f.ns;
  if (o.reconciler.operator_namespace.empty()) {
    const char* pn = std::getenv("POD_NAMESPACE");
    o.reconciler.operator_namespace = pn && *pn ? pn : config->namespace_;
  }
  if (o.reconciler.operator_namespace.empty()) o.reconciler.operator_namespace = "default";
  o.reconciler.job_image = f.job_image.empty() ? "schemagate:dev" : f.job_image;
  std::stringstream ss(f.namespaces);
  for (std::string ns; std::getline(ss, ns, ',');) {
    if (!ns.empty()) o.namespaces.push_back(ns);
  }
  o.leader_elect = f.leader_elect;
  o.workers = f.workers;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) o.identity = pod;
  o.logger = log;
  o.reconciler.metrics = &*metrics;
  o.reconciler.recheck_interval = *recheck;
  o.reconciler.job_start_timeout = *start_timeout;
  o.reconciler.job_policy.allowed_image_prefixes = f.allowed_image_prefixes;
  o.reconciler.job_policy.allow_service_account_name = f.allow_service_account_name;

  controller::Controller ctl(client->get(), Clock::Real(), o);
  built = &ctl;
  auto server = observe::HttpServer::Start({.address = f.metrics_addr}, &registry);
  if (!server.ok()) {
    log.Error("cannot serve metrics", {{"address", f.metrics_addr}, {"error", server.status()}});
    return 2;
  }
  (*server)->AddReadinessCheck("controller", [&ctl] { return ctl.Ready(); });
  (*server)->AddLivenessCheck("controller", [&ctl] { return ctl.Live(); });
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    log.Info("stopping", {{"signal", sig}});
    (*server)->MarkShuttingDown();
    ctl.Stop();
  });
  log.Info("starting",
           {{"operator_namespace", o.reconciler.operator_namespace},
            {"watching", o.namespaces.empty() ? std::string("all namespaces") : f.namespaces},
            {"job_image", o.reconciler.job_image},
            {"recheck_interval", FormatDuration(*recheck)},
            {"metrics_address", f.metrics_addr}});
  Status s = ctl.Run();
  // Wake the signal thread if it is still waiting (we stopped on our own).
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  (*server)->Stop();
  if (!s.ok()) {
    log.Error("controller failed", {{"error", s}});
    return 1;
  }
  return 0;
}

}  // namespace sg::cmd
