#!/usr/bin/env bash
# Deleting a SchemaMigration whose Job is migrating stops that Job (its runner
# cancels on SIGTERM within 2 s) and releases the database Lease as soon as
# the runner's pod has terminated, not at once and not after the Lease's 60 s
# expiry (finalizer schemagate.dev/release-lease); a second SchemaMigration
# waiting for the same database then starts its Job. The first migration is
# shorter than the pod's grace period, so a Lease released before the runner
# stopped would show two runners at once: a sampler counts the runners
# connected to the database (pg_stat_activity, the database's own view) all
# along and must never see two. The finalizer is present only while a Lease
# is held or wanted; with the controller stopped, deletion waits until the
# finalizer is removed by hand (the documented way out).
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-finalizer
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null
start_controller "$NS" --namespaces "$NS"

db_secret db app
# create_sm <name> <sql>: one migration, own tracking table, one database
# (both use Secret db, so both derive the identity $NS/db/url).
create_sm() {
  k -n "$NS" create configmap "mig-$1" --from-literal=0001_m.up.sql="$2" >/dev/null
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: $1}
spec:
  database: {secretRef: {name: db}}
  source: {configMaps: [mig-$1]}
  runner: {trackingTable: sg_$1}
YAML
}
finalizers() { k -n "$NS" get sm "$1" -o 'jsonpath={.metadata.finalizers}'; }
running() { [[ $(k -n "$NS" get pods -l "schemagate.dev/migration=$1" -o 'jsonpath={.items[*].status.phase}') == Running ]]; }
reason() { k -n "$NS" get sm "$1" -o 'jsonpath={.status.conditions[?(@.type=="Reconciling")].reason}'; }

# Runner sessions (not their lock or fence sessions) connected to app, every
# 100 ms, at most 10 min.
SAMPLES=$(mktemp /tmp/sg-e2e-runners.XXXXXX)
(
  for _ in $(seq 6000); do
    "${PSQL[@]}" -d postgres -c "select count(*) from pg_stat_activity where datname = 'app'
      and application_name like 'schemagate %' and application_name not like 'schemagate lock %'
      and application_name not like 'schemagate fence %'" >>"$SAMPLES" 2>/dev/null || true
    sleep 0.1
  done
) &
SAMPLER=$!
CLEANUPS+=("kill $SAMPLER 2>/dev/null")
max_runners() { sort -n "$SAMPLES" | tail -n1; }

create_sm first 'select pg_sleep(8); create table first_t (id int);'
wait_for 120 "the first migration pod to run" running first
connected() { [[ $(tail -n1 "$SAMPLES") == 1 ]]; }
wait_for 30 "the sampler to see first's runner connected" connected
lease=$(sm_field first '{.status.database.leaseName}')
holder_first="$NS/first/$(sm_field first '{.metadata.uid}')"
lease_holder() { k -n "$NS" get lease "$lease" -o 'jsonpath={.spec.holderIdentity}'; }
[[ $(lease_holder) == "$holder_first" ]] || fail "Lease $lease held by '$(lease_holder)', want $holder_first"
[[ $(finalizers first) == *schemagate.dev/release-lease* ]] || fail "first has no finalizer: $(finalizers first)"
pass "first holds Lease $lease while its Job runs, with the finalizer"

create_sm second 'create table second_t (id int);'
waiting() { [[ $(reason second) == WaitingForLease ]]; }
wait_for 60 "second to wait for the Lease" waiting
[[ $(finalizers second) == *schemagate.dev/release-lease* ]] || fail "second (waiting) has no finalizer"
pass "second waits for the Lease, with the finalizer"

k -n "$NS" delete sm first --wait=false >/dev/null
deleted=$SECONDS
left_first() { [[ $(lease_holder) != "$holder_first" ]]; }
gone() { ! k -n "$NS" get sm "$1" >/dev/null 2>&1; }
stopped() { [[ $(k -n "$NS" get pods -l schemagate.dev/migration=first \
  -o 'jsonpath={.items[*].status.phase}') != *Running* ]]; }
wait_for 30 "first's runner pod to stop" stopped
stopped_after=$((SECONDS - deleted))
wait_for 50 "the Lease to leave first" left_first
released=$((SECONDS - deleted))
wait_for 30 "sm/first to be gone" gone first
gone=$((SECONDS - deleted))
((released < 20)) || fail "Lease released ${released}s after the delete (expiry is 60 s)"
pass "first's runner stopped ${stopped_after}s after the delete, the Lease was released ${released}s after it (object gone after ${gone}s)"

jobs_of() { k -n "$NS" get jobs -l "schemagate.dev/migration=$1" -o name; }
has_job() { [[ -n $(jobs_of "$1") ]]; }
wait_for 30 "second's Job" has_job second
started=$((SECONDS - deleted))
((started < 20)) || fail "second's Job created ${started}s after the delete"
k -n "$NS" wait --for=condition=Ready sm/second --timeout=120s >/dev/null ||
  fail "second not Ready: $(k -n "$NS" get sm second -o jsonpath='{.status}')"
ready=$((SECONDS - deleted))
echo "FIGURES: after deleting first: Lease released ${released}s, second's Job ${started}s, second Ready ${ready}s"
[[ $("${PSQL[@]}" -d app -c "select count(*) from sg_second where version = 1") == 1 ]] ||
  fail "second's migration not recorded in the database"
pass "second started its Job ${started}s after the delete and is Ready"

no_finalizer() { [[ -z $(finalizers "$1") ]]; }
wait_for 30 "second's finalizer to go (Lease no longer wanted)" no_finalizer second
[[ -z $(lease_holder) ]] || fail "Lease still held by $(lease_holder) after second finished"
no_job() { ! has_job "$1"; }
wait_for 60 "first's Job to be garbage-collected" no_job first
[[ $("${PSQL[@]}" -d app -c "select count(*) from pg_tables where tablename = 'first_t'") == 0 ]] ||
  fail "the deleted SchemaMigration's migration committed"
pass "Ready second has no finalizer, the Lease is free, first's Job was collected and never committed"
[[ $(max_runners) == 1 ]] || fail "at some moment $(max_runners) runners were connected to the database at once"
echo "FIGURES: runner samples: $(wc -l <"$SAMPLES"), at most $(max_runners) runner(s) connected at any moment"
pass "never two runners on the database at once ($(wc -l <"$SAMPLES") samples of pg_stat_activity)"

# Job lost: fourth's Job is deleted with its pod orphaned, mid-migration. The
# orphaned runner goes on (nothing stops it), so the Lease must stay with
# fourth until that pod has finished: fifth, waiting for the same database,
# starts only then, and fourth is retried (its version is already applied).
create_sm fourth 'select pg_sleep(8); create table fourth_t (id int);'
wait_for 120 "the fourth migration pod to run" running fourth
holder_fourth="$NS/fourth/$(sm_field fourth '{.metadata.uid}')"
create_sm fifth 'create table fifth_t (id int);'
fifth_waits() { [[ $(reason fifth) == WaitingForLease ]]; }
wait_for 60 "fifth to wait for the Lease" fifth_waits
k -n "$NS" delete "$(jobs_of fourth)" --cascade=orphan >/dev/null
lost=$SECONDS
job_lost() { [[ $(reason fourth) == JobLost ]]; }
wait_for 30 "fourth to see its Job lost" job_lost
[[ $(lease_holder) == "$holder_fourth" ]] ||
  fail "Lease left fourth ($(lease_holder)) while its orphaned runner pod still runs"
pass "fourth's Job lost, its orphaned pod still runs, the Lease stays with fourth"
k -n "$NS" wait --for=condition=Ready sm/fifth --timeout=120s >/dev/null ||
  fail "fifth not Ready: $(k -n "$NS" get sm fifth -o jsonpath='{.status}')"
k -n "$NS" wait --for=condition=Ready sm/fourth --timeout=120s >/dev/null ||
  fail "fourth not Ready after the retry: $(k -n "$NS" get sm fourth -o jsonpath='{.status}')"
[[ $("${PSQL[@]}" -d app -c "select count(*) from sg_fourth where version = 1") == 1 ]] ||
  fail "fourth's migration not recorded exactly once"
[[ $(max_runners) == 1 ]] || fail "at some moment $(max_runners) runners were connected to the database at once"
echo "FIGURES: job lost: fifth and fourth Ready $((SECONDS - lost))s after the orphaning delete; at most $(max_runners) runner(s) connected at any moment"
pass "fifth ran only after fourth's orphaned runner finished; fourth Ready after its retry; never two runners at once"

# Controller down: deletion waits for the finalizer; removing it by hand frees it.
create_sm third 'select pg_sleep(300);'
wait_for 120 "the third migration pod to run" running third
kill -TERM "$CTL_PID"
wait "$CTL_PID" || fail "controller exited $? on SIGTERM"
k -n "$NS" delete sm third --wait=false >/dev/null
[[ -n $(sm_field third '{.metadata.deletionTimestamp}') ]] || fail "third not marked for deletion"
[[ $(finalizers third) == *schemagate.dev/release-lease* ]] || fail "third lost its finalizer without a controller"
k -n "$NS" patch sm third --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_for 30 "sm/third to be gone after removing the finalizer by hand" gone third
pass "with the controller stopped, deletion waited for the finalizer; removing it by hand completed it"
