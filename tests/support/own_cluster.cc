#include "support/own_cluster.h"

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "kube/config/base64.h"
#include "support/subprocess.h"

namespace sg::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// A process is gone when /proc has no entry or only a zombie's.
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

}  // namespace

StatusOr<std::unique_ptr<OwnCluster>> OwnCluster::Start(OwnClusterOptions options) {
  std::unique_ptr<OwnCluster> c(new OwnCluster());
  c->options_ = std::move(options);
  // Never start a cold build of the cluster (about 30 min) from a test:
  // scripts/test-prepare.sh builds the binaries (warm rebuilds, e.g. of the
  // node agent after a source change, are left to cluster.sh).
  RunResult bin = RunCommand(
      {"bash", "-c",
       "ROOT=" + std::string(SG_SOURCE_DIR) +
           "; source \"$ROOT/scripts/cluster-env.sh\"; test -x \"$CLUSTER_BIN/kube-apiserver\" "
           "&& test -x \"$CLUSTER_BIN/etcd\" && test -x \"$CLUSTER_BIN/kubectl\""});
  if (bin.exit_code != 0) {
    return FailedPreconditionError(
        "local cluster binaries not built: run scripts/cluster-build.sh (or "
        "scripts/test-prepare.sh)");
  }
  char tmpl[] = "/tmp/sg-own-cluster.XXXXXX";
  if (!::mkdtemp(tmpl)) return InternalError("mkdtemp failed");
  c->run_ = tmpl;
  if (Status s = c->Up(); !s.ok()) return s;
  std::istringstream ports(Slurp(c->run_ + "/ports.env"));
  for (std::string line; std::getline(ports, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq);
    int v = std::atoi(line.c_str() + eq + 1);
    if (k == "ETCD_PORT") c->etcd_port_ = v;
    if (k == "API_PORT") c->api_port_ = v;
  }
  if (c->etcd_port_ == 0 || c->api_port_ == 0) {
    return InternalError("no ports in " + c->run_ + "/ports.env");
  }
  return c;
}

OwnCluster::~OwnCluster() {
  if (run_.empty()) return;
  RunScript("down").IgnoreError();
  std::error_code ec;
  std::filesystem::remove_all(run_, ec);
}

Status OwnCluster::RunScript(const std::string& verb) const {
  std::map<std::string, std::string> env = {
      {"CLUSTER_RUN", run_},
      {"CLUSTER_COMPONENTS", Join(options_.components)},
      {"SG_APISERVER_ARGS", options_.apiserver_args},
      {"SG_AGENT_ARGS", options_.agent_args},
      {"SG_ETCD_PORT", std::to_string(options_.first_port)},
      {"SG_ETCD_PEER_PORT", std::to_string(options_.first_port + 10)},
      {"SG_API_PORT", std::to_string(options_.first_port + 20)},
  };
  RunResult r = RunCommand({"bash", std::string(SG_SOURCE_DIR) + "/scripts/cluster.sh", verb}, env);
  if (r.exit_code != 0) {
    return UnavailableError("cluster.sh " + verb + " (CLUSTER_RUN=" + run_ + ") exited " +
                            std::to_string(r.exit_code) + ": " + r.err);
  }
  return OkStatus();
}

Status OwnCluster::Up() { return RunScript("up"); }

StatusOr<pid_t> OwnCluster::Pid(const std::string& component) const {
  std::string text = Slurp(run_ + "/pids/" + component + ".pid");
  pid_t pid = static_cast<pid_t>(std::atol(text.c_str()));
  if (pid <= 0 || !Alive(pid)) return NotFoundError(component + " is not running");
  return pid;
}

Status OwnCluster::Kill(const std::string& component, int sig, std::chrono::seconds timeout) {
  auto pid = Pid(component);
  if (!pid.ok()) return pid.status();
  if (::kill(*pid, sig) != 0) return InternalError("kill " + std::to_string(*pid) + " failed");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Alive(*pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return TimeoutError(component + " (pid " + std::to_string(*pid) + ") still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval
  }
  return OkStatus();
}

StatusOr<std::string> OwnCluster::EtcdPost(const std::string& path, const std::string& body) {
  std::string url = "http://127.0.0.1:" + std::to_string(etcd_port_) + path;
  RunResult r = RunCommand({"curl", "-sS", "-f", "--max-time", "30", "-X", "POST", "-H",
                            "Content-Type: application/json", "-d", body, url});
  if (r.exit_code != 0) {
    return UnavailableError("etcd " + path + ": curl exited " + std::to_string(r.exit_code) + ": " +
                            r.err + r.out);
  }
  return r.out;
}

StatusOr<std::int64_t> OwnCluster::EtcdPut(const std::string& key, const std::string& value) {
  auto out = EtcdPost("/v3/kv/put", nlohmann::json({{"key", kube::Base64Encode(key)},
                                                    {"value", kube::Base64Encode(value)}})
                                        .dump());
  if (!out.ok()) return out.status();
  auto j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.contains("header") || !j["header"].contains("revision")) {
    return InternalError("etcd put: unexpected answer " + *out);
  }
  // The gateway renders int64 as a JSON string.
  const auto& rev = j["header"]["revision"];
  return rev.is_string() ? std::stoll(rev.get<std::string>()) : rev.get<std::int64_t>();
}

Status OwnCluster::EtcdCompact(std::int64_t revision) {
  auto out =
      EtcdPost("/v3/kv/compaction",
               nlohmann::json({{"revision", std::to_string(revision)}, {"physical", true}}).dump());
  return out.ok() ? OkStatus() : out.status();
}

}  // namespace sg::testing
