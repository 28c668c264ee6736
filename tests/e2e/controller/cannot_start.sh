#!/usr/bin/env bash
# A Job whose pod cannot start says why within seconds, not after the Job's
# 600 s deadline: a SchemaMigration whose secretRef names a Secret that does
# not exist is Reconciling with the pod's own reason (CreateContainerConfigError)
# and message (naming the Secret) and a Warning Event; after
# --job-start-timeout (5 s here) it is Stalled with that reason, its Job is
# deleted and the database Lease given back, so another SchemaMigration on
# the same database runs; creating the Secret recovers it (retried with the
# backoff, no hand needed).
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-cannot-start
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null
start_controller "$NS" --namespaces "$NS" --job-start-timeout 5s

db_secret db app
# sm <name> <secret> <sql>: one migration, own tracking table, identity app-db.
sm() {
  k -n "$NS" create configmap "mig-$1" --from-literal=0001_m.up.sql="$3" >/dev/null
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: $1}
spec:
  database: {secretRef: {name: $2}, identity: app-db}
  source: {configMaps: [mig-$1]}
  runner: {trackingTable: sg_$1}
YAML
}
cond() { sm_field "$1" "{.status.conditions[?(@.type==\"$2\")].$3}"; }

sm broken no-such-secret 'create table broken_t (id int);'
created=$SECONDS
says_why() { [[ $(cond broken Reconciling reason) == CreateContainerConfigError ]]; }
wait_for 60 "broken to report CreateContainerConfigError" says_why
said=$((SECONDS - created))
[[ $(cond broken Reconciling message) == *no-such-secret* ]] ||
  fail "message does not name the Secret: $(cond broken Reconciling message)"
warned() { [[ -n $(k -n "$NS" get events --field-selector reason=CreateContainerConfigError,type=Warning -o name) ]]; }
wait_for 30 "a Warning Event naming the reason" warned
pass "broken says why ${said}s after it was created: $(cond broken Reconciling message)"

stalled() { [[ $(cond broken Stalled status) == True && $(cond broken Stalled reason) == CreateContainerConfigError ]]; }
wait_for 60 "broken to be Stalled" stalled
stalled_after=$((SECONDS - created))
lease=$(sm_field broken '{.status.database.leaseName}')
not_broken() { [[ $(k -n "$NS" get lease "$lease" -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null) != "$NS/broken/"* ]]; }
wait_for 60 "broken to give the Lease back" not_broken
pass "broken Stalled ${stalled_after}s after it was created, Lease given back"

sm good db 'create table good_t (id int);'
k -n "$NS" wait --for=condition=Ready sm/good --timeout=120s >/dev/null ||
  fail "good not Ready: $(k -n "$NS" get sm good -o jsonpath='{.status}')"
pass "good, on the same database, ran meanwhile and is Ready"

k -n "$NS" create secret generic no-such-secret --from-literal=url="$(db_url app)" >/dev/null
fixed=$SECONDS
k -n "$NS" wait --for=condition=Ready sm/broken --timeout=180s >/dev/null ||
  fail "broken not Ready after the Secret was created: $(k -n "$NS" get sm broken -o jsonpath='{.status}')"
[[ $("${PSQL[@]}" -d app -c "select count(*) from sg_broken where version = 1") == 1 ]] ||
  fail "broken's migration not recorded"
echo "FIGURES: cannot start: reason shown after ${said}s, Stalled after ${stalled_after}s (timeout 5s), Ready $((SECONDS - fixed))s after the Secret was created"
pass "creating the Secret recovered broken without a hand"
