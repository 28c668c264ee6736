// In-cluster configuration: what a pod uses to reach its own API server.
//
// Reads KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT (IPv6 hosts are
// bracketed), and from the service-account directory (default
// /var/run/secrets/kubernetes.io/serviceaccount): ca.crt, namespace, and the
// token file. The token is NOT read once: credentials are a
// TokenFileCredentials, re-reading the file when it changes (kubelet rotates
// projected tokens) and at least every minute.
// Thread-safety: pure function apart from reading files and the environment.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "kube/config/rest_config.h"

namespace sg::kube {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the real process environment.
EnvLookup ProcessEnv();

struct InClusterOptions {
  EnvLookup env = ProcessEnv();
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  Clock* clock = Clock::Real();
};

// True when the service-host variables are set (we are probably in a pod).
bool InClusterAvailable(const EnvLookup& env);

// kFailedPrecondition when not running in a cluster; kInvalid when files are
// missing or unreadable (naming them).
StatusOr<RestConfig> InClusterConfig(const InClusterOptions& options = {});

}  // namespace sg::kube
