#!/usr/bin/env bash
# Builds the pinned local-cluster binaries from their Go modules:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#   (tests/cluster), sg-node-agent (tests/cluster/cmd/node-agent) and helm
#   (tests/cluster/helm, its own module because its dependencies differ).
# Outputs go to .cache/cluster/<pin>/bin; a binary is rebuilt only when it is
# missing or the sources that define it (go.mod/go.sum, the agent's sources)
# change. Prints the bin directory as its last line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/cluster-env.sh"

export PATH="$GO_ROOT/bin:$PATH"
command -v go >/dev/null || { echo "cluster-build: Go not found at $GO_ROOT" >&2; exit 1; }
export GOFLAGS=-buildvcs=false CGO_ENABLED=${CGO_ENABLED:-0}
mkdir -p "$CLUSTER_BIN"
# One build at a time (test-prepare and cluster.sh up may race).
exec 9>"$CLUSTER_CACHE/.build.lock"
flock 9

MAJOR=${KUBE_VERSION#v}; MAJOR=${MAJOR%%.*}
MINOR=${KUBE_VERSION#v*.}; MINOR=${MINOR%%.*}
BUILD_DATE=1970-01-01T00:00:00Z
# The same stamp upstream's hack/lib/version.sh writes, so servers and kubectl
# report the pinned release instead of v0.0.0-master.
KUBE_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KUBE_LDFLAGS+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  KUBE_LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done

# stamp <name> <files...>: hash of what defines a binary; unchanged => skip.
stamp() {
  local name=$1; shift
  cat "$@" | sha256sum | cut -c1-16
}

build() {  # build <name> <module dir> <package> <ldflags> <stamp inputs...>
  local name=$1 dir=$2 pkg=$3 ldflags=$4; shift 4
  local want; want=$(stamp "$name" "$@")
  if [[ -x "$CLUSTER_BIN/$name" && -f "$CLUSTER_BIN/.$name.stamp" && $(cat "$CLUSTER_BIN/.$name.stamp") == "$want" ]]; then
    return 0
  fi
  echo "cluster-build: building $name ($pkg)" >&2
  local t0=$SECONDS
  (cd "$dir" && go build -p "${GO_BUILD_P:-2}" -trimpath -ldflags "$ldflags" -o "$CLUSTER_BIN/$name.tmp" "$pkg")
  mv "$CLUSTER_BIN/$name.tmp" "$CLUSTER_BIN/$name"
  echo "$want" >"$CLUSTER_BIN/.$name.stamp"
  echo "cluster-build: $name built in $((SECONDS - t0))s" >&2
}

M="$ROOT/tests/cluster"
H="$ROOT/tests/cluster/helm"
ETCD_VERSION=$(cd "$M" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"
HELM_VERSION=$(cd "$H" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
HELM_LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
HELM_LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
# helm's default kubeVersion for `helm template` comes from the client-go it is built with.
HELM_LDFLAGS+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$MAJOR -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$MINOR"
HELM_LDFLAGS+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$MAJOR -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$MINOR"

targets=${*:-etcd kube-apiserver kube-controller-manager kube-scheduler kubectl sg-node-agent helm}
for t in $targets; do
  case $t in
    etcd) build etcd "$M" ./cmd/etcd "$ETCD_LDFLAGS" "$M/go.mod" "$M/go.sum" "$M/cmd/etcd/main.go" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl)
      build "$t" "$M" "k8s.io/kubernetes/cmd/$t" "$KUBE_LDFLAGS" "$M/go.mod" "$M/go.sum" ;;
    sg-node-agent)
      build sg-node-agent "$M" ./cmd/node-agent "$KUBE_LDFLAGS" "$M/go.mod" "$M/go.sum" \
        $(find "$M/cmd/node-agent" "$M/internal" -name '*.go' 2>/dev/null | sort) ;;
    helm) build helm "$H" helm.sh/helm/v3/cmd/helm "$HELM_LDFLAGS" "$H/go.mod" "$H/go.sum" ;;
    *) echo "cluster-build: unknown target $t" >&2; exit 2 ;;
  esac
done
echo "$CLUSTER_BIN"
