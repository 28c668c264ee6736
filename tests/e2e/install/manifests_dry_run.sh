#!/usr/bin/env bash
# manifests/install.yaml (rendered from the chart) and the examples pass
# server-side validation: `kubectl apply --dry-run=server` (admission, RBAC
# escalation checks, the CRD's schema and CEL rules for the example
# SchemaMigration) without installing a second, cluster-wide operator next
# to the other tests'. The install's namespace must exist for a server-side
# dry run of the objects in it: it is created for the check when absent and
# removed again.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_install.sh"
apply_crd
INSTALL=$SG_ROOT/manifests/install.yaml
ns=$(awk '/^kind: Namespace/{f=1} f && /^  name:/{print $2; exit}' "$INSTALL")
[[ -n $ns ]] || fail "no Namespace in $INSTALL"
if ! k get namespace "$ns" >/dev/null 2>&1; then
  k create namespace "$ns" >/dev/null
  CLEANUPS+=("k delete namespace $ns --wait=false >/dev/null 2>&1")
fi
out=$(k apply --dry-run=server -f "$INSTALL" 2>&1) || fail "install.yaml: $out"
n=$(grep -c '(server dry run)' <<<"$out")
want=$(grep -c '^kind: ' "$INSTALL")
((n == want)) || fail "$n of $want objects validated: $out"
pass "manifests/install.yaml: $n objects pass kubectl apply --dry-run=server"

new_namespace e2e-sg-examples
EX=$SG_ROOT/manifests/examples/app
out=$(k apply --dry-run=server -f "$EX/namespace.yaml" 2>&1) || fail "examples/app/namespace.yaml: $out"
k -n "$NS" create configmap accounts-migrations --from-file="$SG_ROOT/manifests/examples/migrations/" \
  --dry-run=client -o yaml | k apply --dry-run=server -f - >/dev/null || fail "migrations ConfigMap"
for f in schemamigration.yaml wait-rbac.yaml deployment.yaml; do
  out=$(sed "s/namespace: shop/namespace: $NS/" "$EX/$f" | k apply --dry-run=server -f - 2>&1) ||
    fail "examples/app/$f: $out"
done
pass "manifests/examples/app passes kubectl apply --dry-run=server"
