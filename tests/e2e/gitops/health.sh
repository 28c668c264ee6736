#!/usr/bin/env bash
# GitOps health of live SchemaMigrations. The controller runs as a process
# (tests/e2e/controller/lib_controller.sh) against a real PostgreSQL; real
# SchemaMigrations are driven into each state, dumped with
# `kubectl get -o json`, and judged by kstatus (what Flux and kpt use) and
# by manifests/examples/argocd/health.lua run as Argo CD runs it
# (tests/gitops/cmd/sg-health):
#   Ready                               Current     Healthy
#   Stalled (failed migration)          Failed      Degraded
#   Reconciling (waiting for the Lease) InProgress  Progressing
#   suspended before the target         InProgress  Suspended
#   generation not yet observed         InProgress  Progressing
#   no status (controller never saw it) Current     Progressing  (kstatus's known gap)
# and the example manifests/examples/shop/migrations becomes Ready (Healthy).
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$SG_ROOT/tests/e2e/controller/lib_controller.sh"
LUA=$SG_ROOT/manifests/examples/argocd/health.lua

WORK=$(mktemp -d /tmp/sg-e2e-gitops.XXXXXX)
CLEANUPS+=("rm -rf $WORK")
(cd "$SG_ROOT/tests/gitops" &&
  GOFLAGS="-buildvcs=false -mod=readonly" "$GO_ROOT/bin/go" build -o "$WORK/sg-health" ./cmd/sg-health) ||
  fail "building tests/gitops/cmd/sg-health"

apply_crd
new_namespace e2e-gitops-off
OFF_NS=$NS
new_namespace e2e-gitops
# Runs after the controller is stopped (cleanups run in reverse): drop the
# Lease finalizer so the namespace (and the Lease in it) can go away even
# when the check failed while no controller ran.
strip_finalizers() {
  local o
  for o in $(k -n "$1" get sm -o name 2>/dev/null); do
    k -n "$1" patch "$o" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
}
CLEANUPS+=("strip_finalizers $NS")
start_postgres
"${PSQL[@]}" -d postgres -c "create database shop" >/dev/null
"${PSQL[@]}" -d postgres -c "create database broken" >/dev/null
start_controller "$NS" --namespaces "$NS"

# check <name> <namespace> <kstatus> <argo> [argo message pattern]: dumps the
# live object and judges it with both tools.
check() {
  local name=$1 ns=$2 want_k=$3 want_a=$4 pattern=${5:-} out
  k -n "$ns" get sm "$name" -o json >"$WORK/$name.json"
  out=$("$WORK/sg-health" --lua "$LUA" --kstatus "$want_k" --argo "$want_a" "$WORK/$name.json") ||
    fail "$name: $out"$'\n'"$(k -n "$ns" get sm "$name" -o jsonpath='{.metadata.generation} {.status}')"
  [[ -z $pattern || $out == *$pattern* ]] || fail "$name: the Argo CD message lacks '$pattern': $out"
  pass "$out"
}

cond() {  # cond <name> <type> <field>
  k -n "$NS" get sm "$1" -o "jsonpath={.status.conditions[?(@.type==\"$2\")].$3}"
}

k -n "$NS" create secret generic db --from-literal=url="$(db_url shop)" >/dev/null
k -n "$NS" create secret generic db-broken --from-literal=url="$(db_url broken)" >/dev/null
k -n "$NS" create configmap good \
  --from-literal=0001_create_accounts.up.sql='create table accounts (id bigint primary key);' >/dev/null
k -n "$NS" create configmap bad \
  --from-literal=0001_break.up.sql='insert into no_such_table values (1);' >/dev/null

# Another holder owns the Lease of the database "blocked" for an hour.
blocked_identity="e2e-gitops/$NS/blocked"
lease=sg-db-$(printf '%s' "$blocked_identity" | sha256sum | cut -c1-16)
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: $lease
  annotations: {schemagate.dev/database-identity: "$blocked_identity"}
spec:
  holderIdentity: elsewhere/holder/00000000-0000-0000-0000-000000000000
  leaseDurationSeconds: 3600
  acquireTime: "$now"
  renewTime: "$now"
  leaseTransitions: 0
YAML

# sm <namespace> <name> <secret> <configmap> [identity] [extra spec line]
sm() {
  k -n "$1" apply -f - >/dev/null <<YAML
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: $2}
spec:
  database: {secretRef: {name: $3}${5:+, identity: $5}}
  source: {configMaps: [$4]}
${6:-}
YAML
}
sm "$NS" ready db good
sm "$NS" broken db-broken bad
sm "$NS" blocked db good "$blocked_identity"
sm "$NS" paused db good "e2e-gitops/$NS/paused" "  suspend: true"
sm "$OFF_NS" unobserved db good

k -n "$NS" wait --for=condition=Ready sm/ready --timeout=180s >/dev/null ||
  fail "sm/ready not Ready: $(k -n "$NS" get sm ready -o jsonpath='{.status}')"
check ready "$NS" Current Healthy "Succeeded: database at version 1"

k -n "$NS" wait --for=condition=Stalled sm/broken --timeout=180s >/dev/null ||
  fail "sm/broken not Stalled: $(k -n "$NS" get sm broken -o jsonpath='{.status}')"
check broken "$NS" Failed Degraded "MigrationFailed: "
[[ $(<"$WORK/broken.json") == *42P01* ]] || fail "the Stalled message lacks the SQLSTATE"

wait_for 60 "sm/blocked waiting for the Lease" \
  bash -c "[[ \$($KUBECTL_BIN -n $NS get sm blocked -o 'jsonpath={.status.conditions[?(@.type==\"Reconciling\")].reason}') == WaitingForLease ]]"
check blocked "$NS" InProgress Progressing "WaitingForLease: waiting for database Lease $lease"

wait_for 60 "sm/paused suspended" \
  bash -c "[[ \$($KUBECTL_BIN -n $NS get sm paused -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}') == Suspended ]]"
[[ $(cond paused Ready status) == False ]] || fail "sm/paused Ready is not False"
check paused "$NS" InProgress Suspended "spec.suspend is true"

# The controller watches only $NS: this one never gets a status.
[[ -z $(k -n "$OFF_NS" get sm unobserved -o 'jsonpath={.status}') ]] || fail "sm/unobserved has a status"
check unobserved "$OFF_NS" Current Progressing "Waiting for the schemagate controller to report status"

# The GitOps example's migrations directory (what Argo CD's wave -1 and
# Flux's shop-migrations apply), in this namespace through an overlay.
"${PSQL[@]}" -d postgres -c "create database accounts" >/dev/null
k -n "$NS" create secret generic accounts-db --from-literal=url="$(db_url accounts)" >/dev/null
mkdir "$WORK/overlay"
# kustomize takes bases only as relative paths.
base=$(realpath --relative-to="$WORK/overlay" "$SG_ROOT/manifests/examples/shop/migrations")
cat >"$WORK/overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NS
resources: [$base]
YAML
k apply -k "$WORK/overlay" >/dev/null
k -n "$NS" wait --for=condition=Ready sm/accounts --timeout=180s >/dev/null ||
  fail "the example sm/accounts not Ready: $(k -n "$NS" get sm accounts -o jsonpath='{.status}')"
[[ $("${PSQL[@]}" -d accounts -c "select count(*) from pg_indexes where indexname = 'accounts_email_key'") == 1 ]] ||
  fail "the example's index accounts_email_key was not created"
check accounts "$NS" Current Healthy "Succeeded: database at version 2"

# A new generation the controller has not seen: stop it, then change the spec.
kill -TERM "$CTL_PID"
wait "$CTL_PID" 2>/dev/null || true
k -n "$NS" patch sm ready --type merge -p '{"spec":{"runner":{"lockTimeout":"7s"}}}' >/dev/null
[[ $(k -n "$NS" get sm ready -o 'jsonpath={.metadata.generation}/{.status.observedGeneration}') == 2/1 ]] ||
  fail "sm/ready generation/observedGeneration is not 2/1"
check ready "$NS" InProgress Progressing "observe generation 2 (status is for generation 1)"

# With the controller back, the new generation is observed and Ready again.
start_controller "$NS" --namespaces "$NS"
wait_for 180 "sm/ready Ready for generation 2" \
  bash -c "[[ \$($KUBECTL_BIN -n $NS get sm ready -o 'jsonpath={.status.observedGeneration}/{.status.conditions[?(@.type==\"Ready\")].status}') == 2/True ]]"
check ready "$NS" Current Healthy "Succeeded: "
