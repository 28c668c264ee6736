#!/usr/bin/env bash
# The Helm chart without a cluster: `helm lint --strict` clean for the
# default and the namespaced values; values.schema.json and the template
# guards reject bad values; manifests/install.yaml and the chart's CRD copy
# are up to date (scripts/render-manifests.sh --check). What the chart
# renders (RBAC verbs exactly, securityContext, probes, ...) is asserted by
# chart_render_test.cc.
# helm: $HELM, else the pinned one scripts/cluster-build.sh builds.
set -euo pipefail
ROOT=${SG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROOT/scripts/cluster-env.sh"
HELM=${HELM:-$CLUSTER_BIN/helm}
[[ -x $HELM ]] || HELM=$(bash "$ROOT/scripts/cluster-build.sh" helm)/helm
export HELM
CHART=$ROOT/charts/schemagate
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

NAMESPACED=(--set 'watchNamespaces={team-a,team-b}' --set metrics.serviceMonitor.enabled=true)

out=$("$HELM" lint --strict "$CHART" 2>&1) || fail "helm lint --strict: $out"
grep -q '0 chart(s) failed' <<<"$out" || fail "helm lint: $out"
out=$("$HELM" lint --strict "$CHART" "${NAMESPACED[@]}" 2>&1) || fail "helm lint --strict (namespaced): $out"
pass "helm lint --strict clean (cluster-wide and namespaced values)"

# Bad values: rejected before anything reaches a cluster, naming the value.
rejects() {  # rejects <expected text> <helm args...>
  local want=$1 out; shift
  if out=$("$HELM" template schemagate "$CHART" "$@" 2>&1); then
    fail "helm template $* succeeded, want an error containing '$want'"
  fi
  grep -qF -- "$want" <<<"$out" || fail "helm template $*: error does not mention '$want': $out"
}
rejects replicaCount --set replicaCount=0
rejects logFormat --set logFormat=xml
rejects replicas --set replicas=3
rejects watchNamespaces --set 'watchNamespaces={Not_A_Namespace}'
rejects recheckInterval --set recheckInterval=soon
rejects "leaderElection.enabled must be true" --set leaderElection.enabled=false
rejects "needs metrics.service.enabled" --set metrics.serviceMonitor.enabled=true --set metrics.service.enabled=false
# One replica may run without leader election (and gets no PDB).
one=$("$HELM" template schemagate "$CHART" --set replicaCount=1 --set leaderElection.enabled=false)
grep -q -- '--leader-elect=false' <<<"$one" || fail "replicaCount=1: --leader-elect=false not rendered"
! grep -q 'kind: PodDisruptionBudget' <<<"$one" || fail "replicaCount=1 renders a PodDisruptionBudget"
pass "values.schema.json and the template guards reject bad values"
"$HELM" template schemagate "$CHART" --set recheckInterval=30m | grep -q -- '--recheck-interval=30m' ||
  fail "recheckInterval=30m not passed as --recheck-interval"
! "$HELM" template schemagate "$CHART" | grep -q -- '--recheck-interval' ||
  fail "--recheck-interval passed without recheckInterval (the operator's default applies)"
pass "recheckInterval passed only when set"

rejects jobPolicy --set jobPolicy.allowServiceAccountName=maybe
rejects jobPolicy --set 'jobPolicy.allowedImagePrefixes={a,,b}'
policy=$("$HELM" template schemagate "$CHART" --set 'jobPolicy.allowedImagePrefixes={registry.corp/,ghcr.io/acme/}' \
  --set jobPolicy.allowServiceAccountName=true)
grep -q -- '--allowed-image-prefixes=registry.corp/,ghcr.io/acme/' <<<"$policy" ||
  fail "jobPolicy.allowedImagePrefixes not passed as --allowed-image-prefixes"
grep -q -- '--allow-service-account-name' <<<"$policy" ||
  fail "jobPolicy.allowServiceAccountName=true not passed"
! "$HELM" template schemagate "$CHART" | grep -q -- '--allow-service-account-name\|--allowed-image-prefixes' ||
  fail "job policy flags passed with the default values (any image, no service account)"
pass "jobPolicy passed only when set, bad values rejected"

bash "$ROOT/scripts/render-manifests.sh" --check || fail "manifests/install.yaml or the chart's CRD drifted"
pass "manifests/install.yaml and charts/schemagate/crds/ match the chart and crds/"
