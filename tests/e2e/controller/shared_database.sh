#!/usr/bin/env bash
# Mutual exclusion per database: three SchemaMigrations in two namespaces
# naming one database (same spec.database.identity), applied at once. Each
# migration logs its own start and end (clock_timestamp()) into run_log after
# sleeping, so overlapping runs would show as overlapping intervals. Asserts:
# all three Ready with exactly one Job each; no two Jobs overlap by their
# status startTime/completionTime; no two logged intervals overlap in the
# database.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_controller.sh"
apply_crd
new_namespace e2e-shared-b
NS_B=$NS
new_namespace e2e-shared-a
NS_A=$NS
start_postgres
"${PSQL[@]}" -d postgres -c "create database shared" >/dev/null
"${PSQL[@]}" -d shared -c "create table run_log (sm text primary key, tx_start timestamptz,
  started timestamptz, ended timestamptz)" >/dev/null
start_controller "$NS_A" --namespaces "$NS_A,$NS_B"

for ns in "$NS_A" "$NS_B"; do
  k -n "$ns" create secret generic db --from-literal=url="$(db_url shared)" >/dev/null
done
# create_sm <namespace> <name>: one migration that sleeps 3 s between its
# logged start and end, own tracking table, the shared identity.
create_sm() {
  local ns=$1 name=$2
  k -n "$ns" create configmap "mig-$name" --from-literal=0001_log.up.sql="
do \$\$
declare t0 timestamptz := clock_timestamp();
begin
  perform pg_sleep(3);
  insert into run_log values ('$ns/$name', now(), t0, clock_timestamp());
end \$\$;" >/dev/null
  k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: $name}
spec:
  database: {secretRef: {name: db}, identity: e2e-shared-database}
  source: {configMaps: [mig-$name]}
  runner: {trackingTable: sg_$name}
YAML
}
create_sm "$NS_A" one
create_sm "$NS_A" two
create_sm "$NS_B" three

for pair in "$NS_A one" "$NS_A two" "$NS_B three"; do
  set -- $pair
  k -n "$1" wait --for=condition=Ready "sm/$2" --timeout=240s >/dev/null ||
    fail "sm $1/$2 not Ready: $(k -n "$1" get sm "$2" -o jsonpath='{.status}')"
  jobs=$(k -n "$1" get jobs -l "schemagate.dev/migration=$2" -o name | wc -l)
  ((jobs == 1)) || fail "$jobs Jobs for $1/$2, want exactly 1"
  [[ $(k -n "$1" get sm "$2" -o jsonpath='{.status.appliedVersion}') == 1 ]] || fail "$1/$2 appliedVersion not 1"
done
pass "three SchemaMigrations Ready, one Job each"

# Jobs: sorted by start, each starts no earlier than the previous completed.
times=$(for ns in "$NS_A" "$NS_B"; do
  k -n "$ns" get jobs -l app.kubernetes.io/managed-by=schemagate \
    -o 'jsonpath={range .items[*]}{.status.startTime} {.status.completionTime} {.metadata.namespace}/{.metadata.name}{"\n"}{end}'
done | sort)
echo "$times"
[[ $(wc -l <<<"$times") == 3 ]] || fail "want 3 Jobs in total"
prev_end=""
while read -r start end job; do
  [[ -n $start && -n $end ]] || fail "Job $job lacks startTime/completionTime"
  if [[ -n $prev_end && $start < $prev_end ]]; then fail "Job $job started $start before the previous Job completed $prev_end"; fi
  prev_end=$end
done <<<"$times"
pass "Job intervals never overlap"

"${PSQL[@]}" -d shared -c "select sm, started, ended from run_log order by started"
[[ $("${PSQL[@]}" -d shared -c "select count(*) from run_log") == 3 ]] || fail "run_log does not have 3 rows"
overlaps=$("${PSQL[@]}" -d shared -c "select count(*) from run_log a join run_log b on a.sm < b.sm
  where a.started < b.ended and b.started < a.ended")
[[ $overlaps == 0 ]] || fail "$overlaps overlapping migration intervals in the database"
gaps=$("${PSQL[@]}" -d shared -c "select string_agg(round(extract(epoch from started - lag)::numeric, 2)::text, ' ')
  from (select started, lag(ended) over (order by started) from run_log) s where lag is not null")
pass "database intervals never overlap (gaps between runs, s: $gaps)"
