# Sourced by the local-cluster scripts: the pin and the paths derived from it.
# KUBE_VERSION must match the k8s.io/kubernetes requirement in tests/cluster/go.mod.
KUBE_VERSION=v1.34.4
GO_ROOT=${GO_ROOT:-/usr/local/go}
: "${ROOT:?}"
CLUSTER_CACHE=${CLUSTER_CACHE:-$ROOT/.cache/cluster/$KUBE_VERSION}
CLUSTER_BIN=$CLUSTER_CACHE/bin
CLUSTER_RUN=${CLUSTER_RUN:-$ROOT/.cache/cluster/run}
