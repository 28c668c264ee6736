// Loader: where the operator's RestConfig comes from, in controller-runtime's
// order:
//   1. --kubeconfig (explicit path; must exist; not merged with anything);
//   2. $KUBECONFIG (path list separated by ':'; missing files are skipped;
//      merged first-wins, see kubeconfig.h);
//   3. in-cluster config when KUBERNETES_SERVICE_HOST is set;
//   4. $HOME/.kube/config.
// --context picks a context other than current-context (ignored in-cluster,
// where it is an error to pass it). --namespace is not handled here.
// Thread-safety: pure function apart from reading files and the environment.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/config/in_cluster.h"
#include "kube/config/rest_config.h"

namespace sg::kube {

struct LoadOptions {
  std::string kubeconfig;  // --kubeconfig
  std::string context;     // --context
  EnvLookup env = ProcessEnv();
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  Clock* clock = Clock::Real();
};

StatusOr<RestConfig> LoadRestConfig(const LoadOptions& options);

}  // namespace sg::kube
