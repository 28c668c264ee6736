#!/usr/bin/env bash
# The controller as a process against the real cluster and a real
# PostgreSQL: a SchemaMigration gets exactly one Job and turns Ready with the
# right appliedVersion (`kubectl wait --for=condition=Ready` returns); a
# failing migration turns Stalled with SQLSTATE and file in the message, and
# fixing the ConfigMap recovers to Ready without restarting anything. The
# controller logs JSON and serves /metrics and /readyz: a succeeded run,
# the applied version, leadership, readiness.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-ctl
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null
start_controller "$NS" --namespaces "$NS" --log-format json

db_secret db app
k -n "$NS" create configmap migrations \
  --from-literal=0001_create_widgets.up.sql='create table widgets (id bigint primary key);' \
  --from-literal=0002_add_name.up.sql='alter table widgets add column name text;' >/dev/null
apply_sm app db migrations
k -n "$NS" wait --for=condition=Ready sm/app --timeout=180s >/dev/null ||
  fail "sm/app not Ready: $(k -n "$NS" get sm app -o jsonpath='{.status}')"
[[ $(sm_field app '{.status.appliedVersion}') == 2 ]] || fail "appliedVersion $(sm_field app '{.status.appliedVersion}'), want 2"
[[ $(sm_field app '{.status.lastJob.result}') == Succeeded ]] || fail "lastJob not Succeeded"
jobs=$(k -n "$NS" get jobs -l schemagate.dev/migration=app -o name | wc -l)
((jobs == 1)) || fail "$jobs Jobs for sm/app, want exactly 1"
[[ $("${PSQL[@]}" -d app -c "select count(*) from information_schema.columns where table_name='widgets'") == 2 ]] ||
  fail "widgets does not have 2 columns"
pass "sm/app Ready at version 2 with one Job; $(k -n "$NS" get sm app | tail -n1)"

# Observability: metrics, probes, JSON logs.
code=$(curl -s -o /dev/null -w '%{http_code}' "$CTL_METRICS/readyz")
[[ $code == 200 ]] || fail "/readyz answered $code: $(curl -s "$CTL_METRICS/readyz?verbose")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$CTL_METRICS/healthz")
[[ $code == 200 ]] || fail "/healthz answered $code"
runs=$(metric_value 'schemagate_migration_runs_total{result="succeeded"}')
[[ $runs == 1 ]] || fail "runs_total{succeeded} = '$runs', want 1: $(curl -s "$CTL_METRICS/metrics" | grep runs_total)"
[[ $(metric_value 'schemagate_migration_duration_seconds_count{result="succeeded"}') == 1 ]] ||
  fail "no duration observed for the succeeded run"
v=$(metric_value "schemagate_applied_version{namespace=\"$NS\",name=\"app\"}")
[[ $v == 2 ]] || fail "applied_version = '$v', want 2: $(curl -s "$CTL_METRICS/metrics" | grep applied_version)"
[[ $(metric_value "schemagate_migration_ready{namespace=\"$NS\",name=\"app\"}") == 1 ]] ||
  fail "migration_ready not 1"
[[ $(metric_value schemagate_leader) == 1 ]] || fail "schemagate_leader not 1"
[[ $(metric_value schemagate_database_lease_wait_seconds_count) -ge 1 ]] ||
  fail "no database Lease wait observed"
# A Ready object's reconcile asks to come back for its recheck: "requeue".
succeeded=$(metric_value 'schemagate_reconcile_total{result="success"}')
requeued=$(metric_value 'schemagate_reconcile_total{result="requeue"}')
((${succeeded:-0} + ${requeued:-0} > 0)) || fail "no successful reconcile counted"
grep -q '"msg":"caches synced"' "$CTL_LOG" || fail "no JSON 'caches synced' line in the controller log"
pass "/readyz 200, runs_total{succeeded}=$runs, applied_version=$v, leader=1, JSON logs"

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
[[ $(metric_value 'schemagate_migration_runs_total{result="stalled"}') == 1 ]] ||
  fail "runs_total{stalled} not 1: $(curl -s "$CTL_METRICS/metrics" | grep runs_total)"
[[ $(metric_value 'schemagate_migration_runs_total{result="succeeded"}') == 2 ]] ||
  fail "runs_total{succeeded} not 2 after the recovery"
pass "recovered: $(k -n "$NS" get sm app | tail -n1)"
