# Shared by the install e2e checks (sourced after tests/e2e/cluster/lib.sh).
HELM=${HELM:-$CLUSTER_BIN/helm}
[[ -x $HELM ]] || fail "helm not found at $HELM (scripts/cluster-build.sh builds it)"
CHART=$SG_ROOT/charts/schemagate
IMAGE_REPO=${SG_IMAGE_REPO:-schemagate}
IMAGE_TAG=${SG_IMAGE_TAG:-dev}
docker image inspect "$IMAGE_REPO:$IMAGE_TAG" >/dev/null 2>&1 ||
  fail "image $IMAGE_REPO:$IMAGE_TAG not found: run scripts/image.sh"
h() { "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }

# restricted_namespace <var> <prefix>: a fresh namespace enforcing the
# restricted Pod Security Standard, deleted on exit; its name goes to <var>.
restricted_namespace() {
  local name
  name="$2-$(date +%s)-$RANDOM"
  k create namespace "$name" >/dev/null
  CLEANUPS+=("drop_namespace $name")
  secret_scope "$name"
  k label namespace "$name" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest >/dev/null
  wait_for 60 "default ServiceAccount in $name" k -n "$name" get serviceaccount default
  printf -v "$1" '%s' "$name"
}

# drop_namespace <ns>: deletes it; SchemaMigrations left there after the
# operator is gone keep its finalizer (schemagate.dev/release-lease), which
# nobody would remove any more: strip it first so the namespace can go.
drop_namespace() {
  local sm
  for sm in $(k -n "$1" get schemamigrations -o name 2>/dev/null); do
    k -n "$1" patch "$sm" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
  k delete namespace "$1" --wait=false >/dev/null 2>&1
}

apply_crd() {
  k apply -f "$SG_ROOT/crds/" >/dev/null
  k wait --for=condition=Established crd/schemamigrations.schemagate.dev --timeout=60s >/dev/null ||
    fail "CRD not established"
}
