// Fuzz target: the kubeconfig loader (kube/config/kubeconfig.h) on any YAML.
// Parse and merge only: building a RestConfig may start an exec credential
// plugin named in the file, which a fuzzer must never do.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/config/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto parsed = sg::kube::ParseKubeconfig(yaml, "/fuzz/kubeconfig");
  if (parsed.ok()) {
    sg::kube::Kubeconfig merged = sg::kube::MergeKubeconfigs({*parsed, *parsed});
    if (merged.contexts.size() != parsed->contexts.size()) __builtin_trap();
  } else if (parsed.status().message().empty()) {
    __builtin_trap();  // a refusal always says why
  }
  return 0;
}
