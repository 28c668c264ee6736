// OwnCluster: a local Kubernetes cluster that belongs to one test, for tests
// that must disturb the control plane (restart the API server, compact etcd,
// change API server flags) without touching the shared cluster.
//
// Start() runs `scripts/cluster.sh up` with CLUSTER_RUN set to a fresh
// temporary directory (own PKI, etcd data, PID files; ports picked free from
// `first_port` upwards) and the components and extra flags asked for. The
// destructor runs `cluster.sh down` for that directory (which stops exactly
// the processes it started, by PID, and its pod containers) and removes it.
//
// etcd is reached through its gRPC gateway (plain HTTP on loopback, the
// cluster's etcd has no client TLS): Put/Compact let a test move the store's
// revision and compact it while the API server is down.
//
// Thread-safety: one thread owns an OwnCluster.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace sg::testing {

struct OwnClusterOptions {
  // What `up` starts (cluster.sh CLUSTER_COMPONENTS).
  std::vector<std::string> components = {"etcd", "kube-apiserver"};
  std::string apiserver_args;  // SG_APISERVER_ARGS
  std::string agent_args;      // SG_AGENT_ARGS
  // First port tried for the etcd client (peer: +10, API server: +20); the
  // first free one at or above is taken. Keep it away from the shared
  // cluster's defaults (23790, 23800, 16443) and from other tests' clusters.
  int first_port = 24790;
};

class OwnCluster {
 public:
  static StatusOr<std::unique_ptr<OwnCluster>> Start(OwnClusterOptions options);
  ~OwnCluster();
  OwnCluster(const OwnCluster&) = delete;
  OwnCluster& operator=(const OwnCluster&) = delete;

  const std::string& run_dir() const { return run_; }
  std::string kubeconfig() const { return run_ + "/admin.kubeconfig"; }
  std::string log_path(const std::string& component) const {
    return run_ + "/logs/" + component + ".log";
  }
  int etcd_port() const { return etcd_port_; }
  int api_port() const { return api_port_; }

  // PID of a running component, or kNotFound.
  StatusOr<pid_t> Pid(const std::string& component) const;
  // Sends `sig` to the component by PID and waits (up to `timeout`) until the
  // process is gone.
  Status Kill(const std::string& component, int sig,
              std::chrono::seconds timeout = std::chrono::seconds(30));
  // `cluster.sh up` again: starts what is not running and waits until ready.
  Status Up();

  // etcd through its gateway. Put returns the store revision after the write.
  StatusOr<std::int64_t> EtcdPut(const std::string& key, const std::string& value);
  Status EtcdCompact(std::int64_t revision);

 private:
  OwnCluster() = default;
  Status RunScript(const std::string& verb) const;
  StatusOr<std::string> EtcdPost(const std::string& path, const std::string& body);

  OwnClusterOptions options_;
  std::string run_;
  int etcd_port_ = 0;
  int api_port_ = 0;
};

}  // namespace sg::testing
