#!/usr/bin/env bash
# The local demo: the operator installed with its Helm chart on the local
# Kubernetes cluster (built from the official modules), running as pods from
# the image built from our Dockerfile, migrating a throw-away PostgreSQL on
# loopback while a Deployment waits for the schema:
#   1. helm install (2 replicas, leader election on a Lease)
#   2. a SchemaMigration + a Deployment whose pods wait in an init container:
#      one Job, Ready, then the pods start
#   3. a new migration in the ConfigMap: Ready turns False at once, one Job,
#      Ready at the new version
#   4. a broken migration: Stalled naming file and SQLSTATE; the fix recovers
#   5. the database password appears nowhere (status, events, operator logs)
# Everything it created is removed at exit, and the cluster is stopped if
# this script started it; `scripts/demo.sh --keep` leaves it all running.
# The runner alone, without Kubernetes: scripts/demo-runner.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
KEEP=0
[[ ${1:-} == --keep ]] && KEEP=1

bash scripts/setup.sh
source scripts/cluster-env.sh
cluster_was_up=0
bash scripts/cluster.sh status >/dev/null 2>&1 && cluster_was_up=1
bash scripts/test-prepare.sh >/dev/null # cluster binaries, schemagate:dev, cluster up
eval "$(bash scripts/cluster.sh env)"
export KUBECONFIG
k() { "$CLUSTER_BIN/kubectl" "$@"; }
helm() { "$CLUSTER_BIN/helm" "$@"; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# show <command...>: print it (k as kubectl), then run it.
show() {
  local shown=("$@")
  [[ $1 == k ]] && shown[0]=kubectl
  echo "\$ ${shown[*]}"
  "$@"
}
die() { echo "demo: $*" >&2; exit 1; }
# wait_until <seconds> <what> <command...>: poll with a deadline.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out waiting for $what"
    sleep 0.5
  done
}

OP_NS=schemagate-system
APP_NS=shop
source scripts/demo-postgres.sh
cleanup() {
  local rc=$?
  if ((KEEP)); then
    echo
    echo "demo: left running (--keep): PostgreSQL in $WORK (port $PORT), release schemagate in"
    echo "  $OP_NS, namespace $APP_NS. export KUBECONFIG=$KUBECONFIG"
    return
  fi
  k delete namespace "$APP_NS" --wait=false >/dev/null 2>&1 || true
  helm uninstall schemagate -n "$OP_NS" --wait >/dev/null 2>&1 || true
  k delete namespace "$OP_NS" --wait=false >/dev/null 2>&1 || true
  demo_postgres_stop
  ((cluster_was_up)) || bash scripts/cluster.sh down >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT

# A previous run's namespaces may still be terminating.
for ns in "$OP_NS" "$APP_NS"; do
  if [[ $(k get namespace "$ns" -o 'jsonpath={.status.phase}' 2>/dev/null) == Terminating ]]; then
    echo "waiting for namespace $ns of an earlier run to be deleted"
    wait_until 180 "namespace $ns to be deleted" bash -c "! $CLUSTER_BIN/kubectl get namespace $ns"
  fi
done

say "a PostgreSQL server on loopback, password authentication"
demo_postgres_start
# psql on this side reads the password from the environment, so no command
# line the demo prints carries it.
export PGPASSWORD=$PASSWORD
PSQL_URL="postgresql://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
echo "listening on 127.0.0.1:$PORT"

say "1. helm install: the operator from charts/schemagate, image schemagate:dev"
# Watching only the demo's namespace: a Role there instead of cluster-wide
# access, and no interference with other users of the local cluster.
show k apply -f manifests/examples/app/namespace.yaml
echo "\$ helm upgrade --install schemagate charts/schemagate -n $OP_NS --create-namespace \\
    --set 'watchNamespaces={$APP_NS}' --wait"
helm upgrade --install schemagate charts/schemagate -n "$OP_NS" --create-namespace \
  --set "watchNamespaces={$APP_NS}" --wait --timeout 5m >/dev/null
show k -n "$OP_NS" get deployment,pods -o wide
wait_until 60 "a leader" test -n "$(k -n "$OP_NS" get lease schemagate-controller \
  -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)"
echo "leader: $(k -n "$OP_NS" get lease schemagate-controller -o jsonpath='{.spec.holderIdentity}')"

say "2. a SchemaMigration and a Deployment that waits for it (manifests/examples/app)"
k -n "$APP_NS" create secret generic accounts-db --from-literal=url="$URL" >/dev/null
echo "\$ kubectl -n $APP_NS create secret generic accounts-db --from-literal=url=<libpq URL>"
show k -n "$APP_NS" create configmap accounts-migrations --save-config \
  --from-file=manifests/examples/migrations/
show k apply -f manifests/examples/app/wait-rbac.yaml -f manifests/examples/app/schemamigration.yaml
# The example's application image is a placeholder: run a sleeper from our
# image instead, so the pods can start once the init container lets them.
k apply --dry-run=client -o json -f manifests/examples/app/deployment.yaml |
  jq '.spec.template.spec.containers[0] += {image: "schemagate:dev", imagePullPolicy: "IfNotPresent",
        command: ["sleep", "infinity"]}' | k apply -f - >/dev/null
echo "\$ kubectl apply -f manifests/examples/app/deployment.yaml   (application image: a sleeper)"
show k -n "$APP_NS" get pods
show k -n "$APP_NS" wait --for=condition=Ready sm/accounts --timeout=180s
show k -n "$APP_NS" get sm,jobs
show k -n "$APP_NS" rollout status deployment/api --timeout=120s
show k -n "$APP_NS" get pods
echo "database Lease (in $OP_NS, released after the Job):"
show k -n "$OP_NS" get leases -l app.kubernetes.io/managed-by=schemagate
show psql -X "$PSQL_URL" -c "SELECT version, name, applied_by, execution_ms FROM schemagate_migrations ORDER BY version"

say "3. a new migration in the ConfigMap: Ready turns False before any Job starts"
printf 'ALTER TABLE accounts ADD COLUMN plan text;\n' >"$WORK/0004_add_plan.up.sql"
printf 'ALTER TABLE accounts DROP COLUMN plan;\n' >"$WORK/0004_add_plan.down.sql"
k -n "$APP_NS" create configmap accounts-migrations --from-file=manifests/examples/migrations/ \
  --from-file="$WORK/0004_add_plan.up.sql" --from-file="$WORK/0004_add_plan.down.sql" \
  --dry-run=client -o yaml | k apply -f - >/dev/null
echo "\$ kubectl apply ... configmap accounts-migrations (+ 0004_add_plan)"
wait_until 60 "Ready=False" test "$(k -n "$APP_NS" get sm accounts \
  -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False
show k -n "$APP_NS" get sm accounts
show k -n "$APP_NS" wait --for=condition=Ready sm/accounts --timeout=180s
show k -n "$APP_NS" get sm accounts

say "4. a broken migration: Stalled, with the file and SQLSTATE; nothing half-applied"
printf 'ALTER TABLE accounts ADD COLUMN tier text;\nINSERT INTO accounts (nope) VALUES (1);\n' \
  >"$WORK/0005_add_tier.up.sql"
k -n "$APP_NS" create configmap accounts-migrations --from-file=manifests/examples/migrations/ \
  --from-file="$WORK/0004_add_plan.up.sql" --from-file="$WORK/0004_add_plan.down.sql" \
  --from-file="$WORK/0005_add_tier.up.sql" --dry-run=client -o yaml | k apply -f - >/dev/null
echo "\$ kubectl apply ... configmap accounts-migrations (+ 0005_add_tier, broken)"
show k -n "$APP_NS" wait --for=condition=Stalled sm/accounts --timeout=180s
k -n "$APP_NS" get sm accounts \
  -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'
psql -X -A -t "$PSQL_URL" -c "SELECT 'column accounts.tier exists: ' || EXISTS (SELECT 1 FROM
  information_schema.columns WHERE table_name = 'accounts' AND column_name = 'tier')"
echo "fix the file; the operator sees the ConfigMap change and retries by itself:"
printf 'ALTER TABLE accounts ADD COLUMN tier text;\n' >"$WORK/0005_add_tier.up.sql"
k -n "$APP_NS" create configmap accounts-migrations --from-file=manifests/examples/migrations/ \
  --from-file="$WORK/0004_add_plan.up.sql" --from-file="$WORK/0004_add_plan.down.sql" \
  --from-file="$WORK/0005_add_tier.up.sql" --dry-run=client -o yaml | k apply -f - >/dev/null
show k -n "$APP_NS" wait --for=condition=Ready sm/accounts --timeout=180s
show k -n "$APP_NS" get sm accounts
show k -n "$APP_NS" get events --field-selector involvedObject.kind=SchemaMigration \
  --sort-by=.lastTimestamp

say "5. the password appears nowhere: status, events, Jobs, operator logs"
{
  k -n "$APP_NS" get sm,jobs,events -o yaml
  for c in $(docker ps -aq --filter "label=io.kubernetes.pod.namespace=$OP_NS"); do
    docker logs "$c" 2>&1
  done
} >"$WORK/everything.txt"
if grep -q "$PASSWORD" "$WORK/everything.txt"; then die "the password leaked"; fi
echo "searched $(wc -l <"$WORK/everything.txt") lines: not found"
say "done"
