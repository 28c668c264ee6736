// The local cluster's admin kubeconfig for e2e tests: $KUBECONFIG when set,
// else what `scripts/cluster.sh env` prints; "" when neither says.
//
// Thread-safety: reentrant (runs a subprocess per call).
#pragma once

#include <string>

namespace sg::testing {

std::string FindKubeconfig();

}  // namespace sg::testing
