// lease_candidate: a tiny leader-election participant for the e2e test.
// Runs a LeaderElector on the Lease <namespace>/<name> with client-go's
// default timings and reports on stdout, one line each:
//   new-leader <identity>   started <fencing token>   stopped   exit <status>
// Each line ends with " @<CLOCK_MONOTONIC ms>" so a test can order events of
// several processes. SIGTERM/SIGINT stop it gracefully (the lease is
// released). SERVER, if given, replaces the kubeconfig's server URL (the
// e2e test routes one candidate through a proxy it can stall).
//
// usage: lease_candidate KUBECONFIG NAMESPACE NAME IDENTITY [SERVER]
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "kube/client/client.h"
#include "kube/config/loader.h"
#include "kube/lease/kube_lease_lock.h"
#include "kube/lease/leader_elector.h"
#include "kube/transport/rest_transport.h"

namespace {

void Say(const std::string& line) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  std::printf("%s @%lld\n", line.c_str(), static_cast<long long>(now.count()));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sg::kube;
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: lease_candidate KUBECONFIG NAMESPACE NAME IDENTITY [SERVER]\n");
    return 2;
  }
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  LoadOptions load;
  load.kubeconfig = argv[1];
  auto config = LoadRestConfig(load);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 2;
  }
  if (argc == 6) config->server = argv[5];
  auto transport = RestTransport::Create(*config);
  if (!transport.ok()) {
    std::fprintf(stderr, "%s\n", transport.status().ToString().c_str());
    return 2;
  }
  auto lock = std::make_unique<KubeLeaseLock>(transport->get(), argv[2], argv[3]);

  LeaderElectorConfig ec;
  ec.identity = argv[4];
  ec.callbacks.on_started_leading = [](int64_t token) { Say("started " + std::to_string(token)); };
  ec.callbacks.on_stopped_leading = [] { Say("stopped"); };
  ec.callbacks.on_new_leader = [](const std::string& who) { Say("new-leader " + who); };
  auto elector = LeaderElector::New(std::move(lock), ec, sg::Clock::Real());
  if (!elector.ok()) {
    std::fprintf(stderr, "%s\n", elector.status().ToString().c_str());
    return 2;
  }
  LeaderElector* e = elector->get();
  std::thread signals([e, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    e->Stop();
  });
  signals.detach();

  sg::Status result = e->Run();
  Say("exit " + result.ToString());
  std::fflush(stdout);
  // The signal thread may still be parked in sigwait: leave without
  // destroying what it references.
  std::_Exit(result.ok() ? 0 : 1);
}
