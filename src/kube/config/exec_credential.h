// ExecCredentials: a client-go credential plugin (kubeconfig users[].user.exec,
// apiVersion client.authentication.k8s.io/v1).
//
// Contract with the plugin, as client-go documents it:
//   - the command runs with the process environment plus `env` entries, and
//     KUBERNETES_EXEC_INFO set to an ExecCredential JSON object
//     {"apiVersion":..., "kind":"ExecCredential", "spec":{"interactive":false}}
//     (plus spec.cluster when provideClusterInfo is true);
//   - we never run interactively: stdin is /dev/null; interactiveMode
//     "Always" is rejected at load time;
//   - stdout must be an ExecCredential of the same apiVersion whose status
//     has `token` (client certificates from plugins are not supported and
//     rejected with a clear error); status.expirationTimestamp (RFC 3339), if
//     present, bounds how long the token is cached; without it the token is
//     cached until Invalidate();
//   - a plugin running longer than `timeout` is killed (kTimeout);
//   - a non-zero exit, bad JSON or a missing token is an error naming the
//     command and the kubeconfig field, never the output (it may hold a
//     token); stderr is passed through to ours, as kubectl does.
// Thread-safety: concurrent Token() calls run the plugin at most once.
// Ownership: `clock` must outlive this object.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "kube/config/credentials.h"

namespace sg::kube {

struct ExecConfig {
  std::string api_version;  // must be client.authentication.k8s.io/v1
  std::string command;      // resolved: relative paths with a '/' are made
                            // relative to the kubeconfig file's directory
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string interactive_mode;  // Never | IfAvailable | Always
  bool provide_cluster_info = false;
  nlohmann::json cluster_info;  // spec.cluster when provide_cluster_info
  std::string origin;           // "kubeconfig /x/config: users[0].user.exec"
  // A plugin still running after this (real time) is killed: a hung plugin
  // must not hang every request behind it.
  std::chrono::milliseconds timeout{60'000};
};

// Fails for an unsupported apiVersion or interactiveMode Always.
Status ValidateExecConfig(const ExecConfig& config);

// Parses an RFC 3339 timestamp ("2024-01-02T03:04:05Z", fractional seconds
// and numeric offsets allowed).
StatusOr<Clock::WallTime> ParseRfc3339(std::string_view text);

class ExecCredentials final : public Credentials {
 public:
  ExecCredentials(ExecConfig config, Clock* clock);
  ExecCredentials(const ExecCredentials&) = delete;
  ExecCredentials& operator=(const ExecCredentials&) = delete;

  StatusOr<std::optional<std::string>> Token() override;
  void Invalidate() override;

  // How many times the plugin ran (for tests and metrics).
  int runs() const;

 private:
  Status RunLocked();

  const ExecConfig config_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::optional<std::string> token_;        // guarded by mu_
  std::optional<Clock::WallTime> expires_;  // guarded by mu_
  int runs_ = 0;                            // guarded by mu_
};

}  // namespace sg::kube
