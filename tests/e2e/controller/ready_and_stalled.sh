#!/usr/bin/env bash
# The controller as a process against the real cluster and a real
# PostgreSQL: a SchemaMigration gets exactly one Job and turns Ready with the
# right appliedVersion (`kubectl wait --for=condition=Ready` returns); a
# failing migration turns Stalled with SQLSTATE and file in the message, and
# fixing the ConfigMap recovers to Ready without restarting anything.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-ctl
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null
start_controller "$NS" --namespaces "$NS"

k -n "$NS" create secret generic db \
  --from-literal=url="postgresql://postgres@127.0.0.1:$PG_PORT/app?sslmode=disable" >/dev/null
k -n "$NS" create configmap migrations \
  --from-literal=0001_create_widgets.up.sql='create table widgets (id bigint primary key);' \
  --from-literal=0002_add_name.up.sql='alter table widgets add column name text;' >/dev/null
k -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: app}
spec:
  database: {secretRef: {name: db}}
  source: {configMaps: [migrations]}
YAML
k -n "$NS" wait --for=condition=Ready sm/app --timeout=180s >/dev/null ||
  fail "sm/app not Ready: $(k -n "$NS" get sm app -o jsonpath='{.status}')"
[[ $(sm_field app '{.status.appliedVersion}') == 2 ]] || fail "appliedVersion $(sm_field app '{.status.appliedVersion}'), want 2"
[[ $(sm_field app '{.status.lastJob.result}') == Succeeded ]] || fail "lastJob not Succeeded"
jobs=$(k -n "$NS" get jobs -l schemagate.dev/migration=app -o name | wc -l)
((jobs == 1)) || fail "$jobs Jobs for sm/app, want exactly 1"
[[ $("${PSQL[@]}" -d app -c "select count(*) from information_schema.columns where table_name='widgets'") == 2 ]] ||
  fail "widgets does not have 2 columns"
pass "sm/app Ready at version 2 with one Job; $(k -n "$NS" get sm app | tail -n1)"

# A failing migration: Stalled with SQLSTATE and file.
k -n "$NS" create configmap migrations --dry-run=client -o yaml \
  --from-literal=0001_create_widgets.up.sql='create table widgets (id bigint primary key);' \
  --from-literal=0002_add_name.up.sql='alter table widgets add column name text;' \
  --from-literal=0003_break.up.sql='insert into no_such_table values (1);' | k -n "$NS" apply -f - >/dev/null
k -n "$NS" wait --for=condition=Stalled sm/app --timeout=180s >/dev/null ||
  fail "sm/app not Stalled: $(k -n "$NS" get sm app -o jsonpath='{.status}')"
msg=$(k -n "$NS" get sm app -o 'jsonpath={.status.conditions[?(@.type=="Stalled")].message}')
reason=$(k -n "$NS" get sm app -o 'jsonpath={.status.conditions[?(@.type=="Stalled")].reason}')
[[ $reason == MigrationFailed ]] || fail "Stalled reason '$reason', want MigrationFailed"
[[ $msg == *0003_break.up.sql* && $msg == *42P01* ]] || fail "Stalled message lacks file or SQLSTATE: $msg"
[[ $(sm_field app '{.status.conditions[?(@.type=="Ready")].status}') == False ]] || fail "Ready not False"
pass "Stalled: $msg"

# Fix the ConfigMap: Ready again, nothing restarted.
k -n "$NS" create configmap migrations --dry-run=client -o yaml \
  --from-literal=0001_create_widgets.up.sql='create table widgets (id bigint primary key);' \
  --from-literal=0002_add_name.up.sql='alter table widgets add column name text;' \
  --from-literal=0003_break.up.sql='create table gadgets (id bigint primary key);' | k -n "$NS" apply -f - >/dev/null
wait_for 180 "sm/app Ready at version 3" \
  bash -c "[[ \$($KUBECTL_BIN -n $NS get sm app -o 'jsonpath={.status.appliedVersion}/{.status.conditions[?(@.type==\"Ready\")].status}') == 3/True ]]"
k -n "$NS" wait --for=condition=Ready sm/app --timeout=10s >/dev/null || fail "kubectl wait after the fix"
kill -0 "$CTL_PID" || fail "the controller is not running any more"
pass "recovered: $(k -n "$NS" get sm app | tail -n1)"
