#!/usr/bin/env bash
# The scaling scenario: a Deployment of 4 replicas whose pods wait in an init
# container (`schemagate wait app --min-version 2`, a ServiceAccount whose
# Role allows only get/list/watch on schemamigrations) for a SchemaMigration
# on a fresh database. Asserts: exactly one Job; every replica becomes Ready
# only after the SchemaMigration's Ready transition; prints how far apart
# the four became Ready (pod Ready lastTransitionTime, 1 s resolution) and
# fails beyond 5 s; scaling to 8 starts the new pods without a new Job.
# SG_WAIT_IMAGE overrides the pod image (default schemagate:dev).
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
IMAGE=${SG_WAIT_IMAGE:-schemagate:dev}
apply_crd
new_namespace e2e-gate
start_postgres
"${PSQL[@]}" -d postgres -c "create database gate" >/dev/null
start_controller "$NS" --namespaces "$NS"

wait_reader waiter
k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: waiter
      terminationGracePeriodSeconds: 1
      initContainers:
      - name: wait-for-schema
        image: $IMAGE
        imagePullPolicy: IfNotPresent
        args: [wait, app, --min-version=2, --timeout=300s]
      containers:
      - name: web
        image: $IMAGE
        imagePullPolicy: IfNotPresent
        command: [sleep, infinity]
YAML
# The pods exist and wait before the SchemaMigration does.
wait_for 120 "4 pods of web" bash -c "[[ \$($KUBECTL_BIN -n $NS get pods -l app=web -o name | wc -l) == 4 ]]"

db_secret db gate
k -n "$NS" create configmap migrations \
  --from-literal=0001_create.up.sql='create table items (id bigint primary key);' \
  --from-literal=0002_slow.up.sql='select pg_sleep(3); alter table items add column name text;' >/dev/null
ready_count() { k -n "$NS" get pods -l app=web -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True; }
[[ $(ready_count) == 0 ]] || fail "a replica is Ready before the SchemaMigration exists"
apply_sm app db migrations
k -n "$NS" wait --for=condition=Ready sm/app --timeout=240s >/dev/null ||
  fail "sm/app not Ready: $(k -n "$NS" get sm app -o jsonpath='{.status}')"
k -n "$NS" rollout status deploy/web --timeout=180s >/dev/null || fail "web did not become available"
jobs=$(k -n "$NS" get jobs -l schemagate.dev/migration=app -o name | wc -l)
((jobs == 1)) || fail "$jobs Jobs, want exactly 1"

sm_ready=$(k -n "$NS" get sm app -o 'jsonpath={.status.conditions[?(@.type=="Ready")].lastTransitionTime}')
job_done=$(k -n "$NS" get jobs -l schemagate.dev/migration=app -o 'jsonpath={.items[0].status.completionTime}')
epoch() { date -u -d "$1" +%s; }
times=$(k -n "$NS" get pods -l app=web -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\n"}{end}' | sort)
first=$(head -n1 <<<"$times") last=$(tail -n1 <<<"$times")
echo "SchemaMigration Ready at $sm_ready (Job completed $job_done); replicas Ready at:"
echo "$times"
spread=$(($(epoch "$last") - $(epoch "$first")))
after=$(($(epoch "$first") - $(epoch "$sm_ready")))
echo "FIGURES: first replica Ready ${after}s after sm Ready; spread of the 4 replicas ${spread}s"
[[ ! $first < $sm_ready ]] || fail "a replica became Ready ($first) before the SchemaMigration ($sm_ready)"
((spread <= 5)) || fail "replicas became Ready ${spread}s apart, want <= 5"
pass "one Job; 4 replicas Ready after sm Ready, within ${spread}s of each other"

k -n "$NS" scale deploy/web --replicas=8 >/dev/null
k -n "$NS" rollout status deploy/web --timeout=180s >/dev/null || fail "web did not scale to 8"
[[ $(ready_count) == 8 ]] || fail "$(ready_count) replicas Ready, want 8"
jobs=$(k -n "$NS" get jobs -l app.kubernetes.io/managed-by=schemagate -o name | wc -l)
((jobs == 1)) || fail "$jobs Jobs after scaling, want still 1"
pass "scaled to 8 without a new Job"
