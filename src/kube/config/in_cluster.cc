#include "kube/config/in_cluster.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sg::kube {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

bool InClusterAvailable(const EnvLookup& env) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  return host && !host->empty() && port && !port->empty();
}

StatusOr<RestConfig> InClusterConfig(const InClusterOptions& options) {
  if (!InClusterAvailable(options.env)) {
    return FailedPreconditionError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  std::string host = *options.env("KUBERNETES_SERVICE_HOST");
  std::string port = *options.env("KUBERNETES_SERVICE_PORT");
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6
  const std::string dir = options.service_account_dir;

  RestConfig rc;
  rc.server = "https://" + host + ":" + port;
  rc.source = "in-cluster";
  rc.tls.ca.file = dir + "/ca.crt";
  rc.tls.ca.field = "in-cluster ca.crt";
  if (!std::ifstream(rc.tls.ca.file)) {
    return InvalidError("in-cluster config: cannot read " + rc.tls.ca.file);
  }
  auto creds = std::make_shared<TokenFileCredentials>(dir + "/token", options.clock);
  // Fail now rather than at the first request if there is no token.
  auto token = creds->Token();
  if (!token.ok()) return token.status().WithContext("in-cluster config");
  rc.credentials = std::move(creds);
  rc.namespace_ = "default";
  if (std::ifstream ns(dir + "/namespace"); ns) {
    std::ostringstream ss;
    ss << ns.rdbuf();
    std::string v = ss.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    if (!v.empty()) rc.namespace_ = v;
  }
  return rc;
}

}  // namespace sg::kube
