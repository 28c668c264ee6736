# Shared helpers for the e2e cluster checks (sourced). Each check runs against
# the local cluster scripts/cluster.sh brought up (scripts/test-prepare.sh
# does that for ctest) in a namespace of its own, deleted on exit.
set -Eeuo pipefail
# A command that fails outside a check ends the script under `set -e`; say
# which one, instead of ending silently.
trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
SG_ROOT=${SG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
ROOT=$SG_ROOT
source "$SG_ROOT/scripts/cluster-env.sh"
eval "$(bash "$SG_ROOT/scripts/cluster.sh" env)"
export KUBECONFIG
KUBECTL_BIN="$CLUSTER_BIN/kubectl"
k() { "$KUBECTL_BIN" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }

k get --raw /readyz >/dev/null 2>&1 || fail "local cluster is not up: run scripts/test-prepare.sh (or scripts/cluster.sh up)"

CLEANUPS=()
# The password in every database URL the checks hand out: the test server
# trusts 127.0.0.1 and never asks for it, so it only has to stay unseen.
# It holds what breaks naive parsing and redaction (URL delimiters, %, a
# quote, a space, non-ASCII) and is new for every run.
SG_DB_PASSWORD="pw-$RANDOM$RANDOM:/@?#%20'\" é-$RANDOM"
SECRET_SCOPES=()  # namespaces whose objects and pod logs must not hold it
SECRET_LOGS=()    # log files of processes the check started
on_exit() {
  local rc=$? i
  # The database password must appear nowhere a tenant or a log reader can
  # look: checked after every check that handed one out, pass or fail.
  if ((${#SECRET_SCOPES[@]})); then assert_secret_nowhere || rc=1; fi
  if ((rc != 0)) && [[ -n ${NS:-} ]]; then
    echo "--- diagnostics for namespace $NS" >&2
    k -n "$NS" get all,events -o wide >&2 2>&1 || true
    k -n "$NS" get pods -o yaml 2>&1 | grep -A30 -E '^    (containerStatuses|initContainerStatuses):' >&2 || true
  fi
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" || true; done
  exit $rc
}
trap on_exit EXIT

# new_namespace <prefix>: a fresh namespace in $NS, deleted on exit.
new_namespace() {
  NS="$1-$(date +%s)-$RANDOM"
  k create namespace "$NS" >/dev/null
  CLEANUPS+=("k delete namespace $NS --wait=false >/dev/null 2>&1")
  secret_scope "$NS"
  # The ServiceAccount controller creates "default" asynchronously.
  wait_for 60 "default ServiceAccount in $NS" k -n "$NS" get serviceaccount default
}

# wait_for <seconds> <what> <command...>: poll until success or deadline.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${deadline}s waiting for $what"
    sleep 0.5
  done
}

# pod_field <pod> <jsonpath>
pod_field() { k -n "$NS" get pod "$1" -o "jsonpath=$2"; }

pod_terminal() {
  local p
  p=$(pod_field "$1" '{.status.phase}')
  [[ $p == Succeeded || $p == Failed ]]
}

# job_pod <job>: name of the (single) pod of a Job.
job_pod() { k -n "$NS" get pods -l "batch.kubernetes.io/job-name=$1" -o 'jsonpath={.items[0].metadata.name}'; }

# start_postgres: a throwaway PostgreSQL on a free loopback port, trust auth
# for 127.0.0.1; sets PG_PORT, stopped and removed on exit.
start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -x $bin/initdb ]] || fail "PostgreSQL server binaries not found (scripts/setup.sh installs them)"
  PG_DIR=$(mktemp -d /tmp/sg-e2e-pg.XXXXXX)
  local as=()
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; fail "initdb"; }
  # A free port can be taken between the probe and the bind by a check
  # running concurrently (other ctest invocations on the machine): retry on
  # "Address already in use" with the next free port.
  local attempt
  PG_PORT=25432
  for attempt in 1 2 3 4 5; do
    while (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; do PG_PORT=$((PG_PORT + 1)); done
    rm -f "$PG_DIR/server.log"
    "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null && break
    grep -q 'Address already in use' "$PG_DIR/server.log" && ((attempt < 5)) ||
      { cat "$PG_DIR/server.log" >&2; fail "postgres did not start"; }
    PG_PORT=$((PG_PORT + 1))
  done
  CLEANUPS+=("${as[*]} $bin/pg_ctl -D $PG_DIR/data -m immediate stop >/dev/null 2>&1; rm -rf $PG_DIR")
  PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -A -t -v ON_ERROR_STOP=1)
}


# secret_scope <namespace...>: also search these namespaces at exit.
secret_scope() { SECRET_SCOPES+=("$@"); }

# db_url <database>: the test PostgreSQL's URL for <database>, with
# SG_DB_PASSWORD percent-encoded in it.
db_url() {
  local pw
  pw=$(jq -rn --arg s "$SG_DB_PASSWORD" '$s|@uri')
  echo "postgresql://postgres:$pw@127.0.0.1:$PG_PORT/$1?sslmode=disable"
}

# db_secret <secret> <database>: Secret <secret> in $NS whose key url is the
# test's PostgreSQL (start_postgres) database <database>.
db_secret() {
  k -n "$NS" create secret generic "$1" --from-literal=url="$(db_url "$2")" >/dev/null
}

# assert_secret_nowhere: SG_DB_PASSWORD, raw or percent-encoded, is in none
# of: the SchemaMigrations (status, conditions), Jobs, pods (termination
# messages), Events of the secret scope; the logs of every container of
# those namespaces; SECRET_LOGS. Prints where it was found and returns 1.
assert_secret_nowhere() {
  local enc ns c f found=0 dump
  enc=$(jq -rn --arg s "$SG_DB_PASSWORD" '$s|@uri')
  dump=$(mktemp -d /tmp/sg-e2e-secret.XXXXXX)
  for ns in $(printf '%s\n' "${SECRET_SCOPES[@]}" | sort -u); do
    k -n "$ns" get schemamigrations.schemagate.dev,jobs,pods,events -o json \
      >"$dump/$ns.objects.json" 2>/dev/null || true
    k -n "$ns" get events.events.k8s.io -o json >"$dump/$ns.events.json" 2>/dev/null || true
    for c in $(docker ps -aq --filter "label=io.kubernetes.pod.namespace=$ns" 2>/dev/null); do
      docker logs "$c" >"$dump/$ns.container-$c.log" 2>&1 || true
    done
  done
  for f in "${SECRET_LOGS[@]}"; do [[ -f $f ]] && cp "$f" "$dump/log-$(basename "$f")"; done
  for f in "$dump"/*; do
    [[ -f $f ]] || continue
    if grep -qF -e "$SG_DB_PASSWORD" -e "$enc" "$f"; then
      # Where, not what: the line numbers, never the line (it holds the password).
      echo "FAIL: the database password appears in $(basename "$f"), line(s)" \
        "$(grep -nF -e "$SG_DB_PASSWORD" -e "$enc" "$f" | cut -d: -f1 | head -n 5 | tr '\n' ' ')" >&2
      found=1
    fi
  done
  local searched
  searched=$(cat "$dump"/* 2>/dev/null | wc -c)
  rm -rf "$dump"
  ((found == 0)) || return 1
  echo "PASS: the database password appears nowhere ($searched bytes of objects and logs searched)"
}

# apply_sm <name> <secret> <configmap>: the smallest SchemaMigration in $NS.
apply_sm() {
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: $1}
spec:
  database: {secretRef: {name: $2}}
  source: {configMaps: [$3]}
YAML
}

# wait_reader <serviceaccount>: a ServiceAccount in $NS that may read
# SchemaMigrations there (what `schemagate wait` needs, nothing more).
wait_reader() {
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: $1}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: schemagate-wait}
rules:
- apiGroups: [schemagate.dev]
  resources: [schemamigrations]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: schemagate-wait}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: schemagate-wait}
subjects: [{kind: ServiceAccount, name: $1, namespace: $NS}]
YAML
}
