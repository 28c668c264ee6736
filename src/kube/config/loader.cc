#include "kube/config/loader.h"

#include <filesystem>
#include <vector>

#include "kube/config/kubeconfig.h"

namespace sg::kube {

namespace {

StatusOr<RestConfig> FromFiles(const std::vector<std::string>& paths, bool must_exist,
                               const LoadOptions& o) {
  std::vector<Kubeconfig> configs;
  for (const auto& p : paths) {
    if (p.empty()) continue;
    std::error_code ec;
    if (!must_exist && !std::filesystem::exists(p, ec)) continue;
    SG_ASSIGN_OR_RETURN(Kubeconfig kc, LoadKubeconfigFile(p));
    configs.push_back(std::move(kc));
  }
  if (configs.empty()) return NotFoundError("no kubeconfig file found");
  return BuildRestConfig(MergeKubeconfigs(configs), o.context, o.clock);
}

}  // namespace

StatusOr<RestConfig> LoadRestConfig(const LoadOptions& o) {
  if (!o.kubeconfig.empty()) return FromFiles({o.kubeconfig}, /*must_exist=*/true, o);
  if (auto env = o.env("KUBECONFIG"); env && !env->empty()) {
    std::vector<std::string> paths;
    size_t start = 0;
    for (;;) {
      size_t colon = env->find(':', start);
      paths.push_back(env->substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    auto rc = FromFiles(paths, /*must_exist=*/false, o);
    if (rc.ok() || rc.status().code() != Code::kNotFound) return rc;
    return NotFoundError("KUBECONFIG=" + *env + ": none of the files exists");
  }
  if (InClusterAvailable(o.env)) {
    if (!o.context.empty()) {
      return InvalidError("--context " + o.context + " cannot be used with in-cluster config");
    }
    return InClusterConfig(
        {.env = o.env, .service_account_dir = o.service_account_dir, .clock = o.clock});
  }
  if (auto home = o.env("HOME"); home && !home->empty()) {
    std::string path = *home + "/.kube/config";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return FromFiles({path}, true, o);
  }
  return NotFoundError(
      "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, or "
      "create ~/.kube/config");
}

}  // namespace sg::kube
