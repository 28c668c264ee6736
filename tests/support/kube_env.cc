#include "support/kube_env.h"

#include <cstdio>
#include <cstdlib>

namespace sg::testing {

std::string FindKubeconfig() {
  if (const char* k = std::getenv("KUBECONFIG"); k && *k) return k;
  std::string cmd = std::string("bash ") + SG_SOURCE_DIR + "/scripts/cluster.sh env 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[1024];
  while (fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  auto pos = out.find("KUBECONFIG=");
  if (pos == std::string::npos) return "";
  std::string path = out.substr(pos + 11);
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  return path;
}

}  // namespace sg::testing
