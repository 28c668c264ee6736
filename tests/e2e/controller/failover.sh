#!/usr/bin/env bash
# Failover: two controller replicas with leader election; the leader is
# SIGKILLed (no Lease release) while a migration Job runs. The standby takes
# the leader Lease once it expires, adopts the running Job (deterministic
# name) instead of creating a second one, and the SchemaMigration ends Ready.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-failover
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null

start_controller "$NS" --namespaces "$NS"
A_PID=$CTL_PID A_LOG=$CTL_LOG A_METRICS=$CTL_METRICS
wait_for 60 "replica A to lead" bash -c "curl -fsS $A_METRICS/metrics | grep -qx 'schemagate_leader 1'"
CTL_PORT_FROM=$((${A_METRICS##*:} + 1)) start_controller "$NS" --namespaces "$NS"
B_PID=$CTL_PID B_LOG=$CTL_LOG B_METRICS=$CTL_METRICS
wait_for 60 "replica B to serve /readyz" curl -fsS "$B_METRICS/readyz"
[[ $(CTL_METRICS=$B_METRICS metric_value schemagate_leader) == 0 ]] || fail "replica B leads too"
pass "A leads, B stands by (ready, leader=0)"

db_secret db app
k -n "$NS" create configmap migrations \
  --from-literal=0001_slow.up.sql='select pg_sleep(30); create table t (id bigint);' >/dev/null
apply_sm app db migrations
running() { [[ $(k -n "$NS" get pods -l schemagate.dev/migration=app -o 'jsonpath={.items[*].status.phase}') == Running ]]; }
wait_for 120 "the migration pod to run" running
job=$(k -n "$NS" get jobs -l schemagate.dev/migration=app -o 'jsonpath={.items[0].metadata.name}')
kill -KILL "$A_PID"
killed=$SECONDS
pass "SIGKILLed leader A while Job $job runs"

wait_for 90 "replica B to lead" bash -c "curl -fsS $B_METRICS/metrics | grep -qx 'schemagate_leader 1'"
echo "FIGURES: B led $((SECONDS - killed))s after the kill"
running || echo "note: the Job finished before B led"
k -n "$NS" wait --for=condition=Ready sm/app --timeout=180s >/dev/null ||
  fail "sm/app not Ready after failover: $(k -n "$NS" get sm app -o jsonpath='{.status}')"
jobs=$(k -n "$NS" get jobs -l app.kubernetes.io/managed-by=schemagate -o name)
[[ $jobs == "job.batch/$job" ]] || fail "Jobs after failover: $jobs (want only $job)"
[[ $(k -n "$NS" get sm app -o 'jsonpath={.status.lastJob.name}') == "$job" ]] || fail "lastJob is not $job"
[[ $(k -n "$NS" get sm app -o 'jsonpath={.status.appliedVersion}') == 1 ]] || fail "appliedVersion not 1"
[[ $(CTL_METRICS=$B_METRICS metric_value 'schemagate_migration_runs_total{result="succeeded"}') == 1 ]] ||
  fail "B did not count the adopted run"
pass "B adopted $job: one Job, Ready at version 1"
