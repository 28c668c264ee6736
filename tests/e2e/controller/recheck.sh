#!/usr/bin/env bash
# Periodic re-verification (--recheck-interval): a Ready SchemaMigration runs
# its Job again after the interval; Ready never leaves True while the recheck
# runs and succeeds (its lastTransitionTime is unchanged). Tampering with the
# tracking table (an applied checksum) is found by the next recheck: Stalled
# with reason ChecksumMismatch. /healthz?verbose lists the liveness check.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-recheck
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null
start_controller "$NS" --namespaces "$NS" --recheck-interval 5s

db_secret db app
k -n "$NS" create configmap migrations --from-literal=0001_t.up.sql='create table t (id int);' >/dev/null
apply_sm app db migrations
k -n "$NS" wait --for=condition=Ready sm/app --timeout=180s >/dev/null ||
  fail "sm/app not Ready: $(sm_field app '{.status}')"
first=$(sm_field app '{.status.lastJob.name}')
ready_since=$(sm_field app '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')
pass "Ready through Job $first"

rechecked() {
  [[ $(sm_field app '{.status.lastJob.name}') != "$first" &&
     $(sm_field app '{.status.lastJob.result}') == Succeeded ]]
}
wait_for 120 "a recheck Job to succeed" rechecked
second=$(sm_field app '{.status.lastJob.name}')
jobs=$(k -n "$NS" get jobs -l schemagate.dev/migration=app -o name | wc -l)
((jobs >= 2)) || fail "$jobs Jobs, want the first and at least one recheck"
[[ $(sm_field app '{.status.conditions[?(@.type=="Ready")].status}') == True ]] || fail "not Ready after the recheck"
[[ $(sm_field app '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}') == "$ready_since" ]] ||
  fail "Ready transitioned during the recheck (lastTransitionTime changed from $ready_since)"
[[ $(sm_field app '{.status.appliedVersion}') == 1 ]] || fail "appliedVersion not 1"
pass "recheck Job $second succeeded; Ready stayed True (lastTransitionTime $ready_since)"

"${PSQL[@]}" -d app -c "update schemagate_migrations set checksum = repeat('0', 64) where version = 1" >/dev/null
stalled() { [[ $(sm_field app '{.status.conditions[?(@.type=="Stalled")].status}') == True ]]; }
wait_for 120 "a recheck to find the tampered checksum" stalled
reason=$(sm_field app '{.status.conditions[?(@.type=="Stalled")].reason}')
[[ $reason == ChecksumMismatch ]] || fail "Stalled with reason $reason, want ChecksumMismatch"
[[ $(sm_field app '{.status.conditions[?(@.type=="Ready")].status}') == False ]] || fail "still Ready after drift"
pass "tampered checksum found by a recheck: Stalled ChecksumMismatch, Ready False"

# The liveness check is wired in: /healthz lists it (workers and informers fine).
health=$(curl -fsS "$CTL_METRICS/healthz?verbose")
[[ $health == *"[+]controller ok"* ]] || fail "/healthz?verbose lacks the controller check: $health"
pass "/healthz?verbose: [+]controller ok"
