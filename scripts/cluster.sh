#!/usr/bin/env bash
# The local single-node Kubernetes cluster for the e2e tests and the demo:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler (all built
# from the pinned upstream Go modules, see tests/cluster/go.mod) and the node
# agent (tests/cluster/internal/agent), which runs pods through Docker.
#
#   scripts/cluster.sh up       build if needed, start what is not running,
#                               wait until usable; prints `export KUBECONFIG=...` last
#   scripts/cluster.sh down     stop exactly the processes `up` started (by PID)
#                               and the containers the node agent created
#   scripts/cluster.sh status   components, readiness, node
#   scripts/cluster.sh env      print the export line only
#   scripts/cluster.sh pid <c>  PID of a running component (exit 1 if not running);
#                               tests kill it by PID and `up` starts it again
#   scripts/cluster.sh wipe     down + delete the cluster state (etcd data, certs)
#
# A cluster of one's own (tests that restart the API server or change its
# flags must not disturb the shared one): set CLUSTER_RUN to a directory of
# its own; everything below lives there, ports are picked free again.
#   CLUSTER_COMPONENTS="etcd kube-apiserver"   what `up` starts (default: all;
#                               a control plane without a node for API-only tests)
#   SG_APISERVER_ARGS="--watch-cache=false"    extra kube-apiserver flags
#   SG_AGENT_ARGS="--token-refresh-period=20s" extra node agent flags
#   SG_ETCD_PORT / SG_ETCD_PEER_PORT / SG_API_PORT   first port tried for each
# Extra flags are read whenever `up` starts a component (also when it starts
# one again after a test killed it): pass the same values to every `up` of
# one cluster. They are split on whitespace (no spaces inside a value).
#
# Everything listens on 127.0.0.1 only. Ports are picked once (first free
# port from the defaults below, upwards) and kept in $CLUSTER_RUN/ports.env.
# State, certificates, logs and PID files live in $CLUSTER_RUN
# (default .cache/cluster/run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/cluster-env.sh"

RUN=$CLUSTER_RUN
PKI=$RUN/pki
LOGS=$RUN/logs
PIDS=$RUN/pids
NODE_NAME=${NODE_NAME:-sg-node}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler sg-node-agent)
# What `up` starts, in start order (a subset of COMPONENTS).
read -r -a UP_COMPONENTS <<<"${CLUSTER_COMPONENTS:-${COMPONENTS[*]}}"
for c in "${UP_COMPONENTS[@]}"; do
  [[ " ${COMPONENTS[*]} " == *" $c "* ]] || { echo "cluster: unknown component in CLUSTER_COMPONENTS: $c" >&2; exit 2; }
done
KUBECTL="$CLUSTER_BIN/kubectl --kubeconfig $RUN/admin.kubeconfig"

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1 taken=" ${2:-} "
  while port_busy "$p" || [[ $taken == *" $p "* ]]; do p=$((p + 1)); done
  echo "$p"
}

ports() {
  mkdir -p "$RUN"
  if [[ ! -f $RUN/ports.env ]]; then
    local e ep a
    e=$(free_port "${SG_ETCD_PORT:-23790}")
    ep=$(free_port "${SG_ETCD_PEER_PORT:-23800}" "$e")
    a=$(free_port "${SG_API_PORT:-16443}" "$e $ep")
    printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPI_PORT=%s\n' "$e" "$ep" "$a" >"$RUN/ports.env"
  fi
  source "$RUN/ports.env"
}

# ---------------------------------------------------------------- certificates
cert() {  # cert <name> <subject> [san]: key + cert signed by the local CA
  local name=$1 subj=$2 san=${3:-}
  [[ -s $PKI/$name.crt ]] && return 0
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n $san ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

kubeconfig() {  # kubeconfig <file> <cert name> <user>
  local f=$1 c=$2 u=$3
  [[ -s $f ]] && return 0
  (
    umask 077
    cat >"$f" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $u
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$c.crt")
    client-key-data: $(base64 -w0 <"$PKI/$c.key")
contexts:
- name: local
  context: {cluster: local, user: $u}
current-context: local
YAML
  )
}

pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [[ ! -s $PKI/ca.crt ]]; then
    openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=schemagate-local-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
  fi
  cert apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert admin "/O=system:masters/CN=kubernetes-admin"
  cert controller-manager "/CN=system:kube-controller-manager"
  cert scheduler "/CN=system:kube-scheduler"
  cert node "/O=system:nodes/CN=system:node:$NODE_NAME"
  if [[ ! -s $PKI/sa.key ]]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  kubeconfig "$RUN/admin.kubeconfig" admin kubernetes-admin
  kubeconfig "$RUN/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  kubeconfig "$RUN/scheduler.kubeconfig" scheduler system:kube-scheduler
  kubeconfig "$RUN/node.kubeconfig" node "system:node:$NODE_NAME"
}

# ------------------------------------------------------------------ processes
pid_of() {  # prints the PID if the recorded process is alive and still ours
  local f=$PIDS/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ -d /proc/$pid ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -q -- "$CLUSTER_BIN/$1" || return 1
  echo "$pid"
}

args_for() {
  case $1 in
    etcd) echo --name sg --data-dir "$RUN/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "sg=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn --unsafe-no-fsync=true \
        --quota-backend-bytes 2147483648 ;;
    kube-apiserver) echo --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
        --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
        --client-ca-file "$PKI/ca.crt" --authorization-mode Node,RBAC \
        --enable-admission-plugins NodeRestriction \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
        --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true \
        --endpoint-reconciler-type none --cert-dir "$RUN/apiserver" --profiling=false \
        ${SG_APISERVER_ARGS:-} ;;
    kube-controller-manager) echo --kubeconfig "$RUN/controller-manager.kubeconfig" \
        --authentication-kubeconfig "$RUN/controller-manager.kubeconfig" \
        --authorization-kubeconfig "$RUN/controller-manager.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --controllers * \
        --use-service-account-credentials=true --root-ca-file "$PKI/ca.crt" \
        --service-account-private-key-file "$PKI/sa.key" \
        --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
        --service-cluster-ip-range 10.0.0.0/24 --flex-volume-plugin-dir "$RUN/flexvolume" --profiling=false ;;
    kube-scheduler) echo --kubeconfig "$RUN/scheduler.kubeconfig" \
        --authentication-kubeconfig "$RUN/scheduler.kubeconfig" \
        --authorization-kubeconfig "$RUN/scheduler.kubeconfig" \
        --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --profiling=false ;;
    sg-node-agent) echo --kubeconfig "$RUN/node.kubeconfig" --node-name "$NODE_NAME" \
        --state-dir "$RUN/node" --api-host 127.0.0.1 --api-port "$API_PORT" --docker "$(command -v docker)" \
        ${SG_AGENT_ARGS:-} ;;
  esac
}

start() {
  local name=$1 pid
  if pid=$(pid_of "$name"); then
    return 0
  fi
  mkdir -p "$LOGS" "$PIDS"
  local args
  # Split on whitespace (no spaces in these paths) without globbing ('*').
  set -f
  read -r -a args <<<"$(args_for "$name")"
  set +f
  setsid "$CLUSTER_BIN/$name" "${args[@]}" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!)"
}

wait_until() {  # wait_until <seconds> <what> <command...>: poll with a deadline
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out waiting for $what; last log lines:"
      tail -n 20 "$LOGS"/*.log >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

api_ready() { $KUBECTL get --raw /readyz; }
etcd_ready() { port_busy "$ETCD_PORT"; }
node_ready() {
  [[ $($KUBECTL get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
sa_ready() {
  $KUBECTL -n default get serviceaccount default && $KUBECTL -n default get configmap kube-root-ca.crt
}

wanted() { [[ " ${UP_COMPONENTS[*]} " == *" $1 "* ]]; }

up() {
  # No-op when warm; rebuilds a binary only when its pin or sources changed.
  bash "$ROOT/scripts/cluster-build.sh" "${UP_COMPONENTS[@]}" kubectl >/dev/null
  if wanted sg-node-agent; then
    command -v docker >/dev/null || die "docker CLI not found"
  fi
  command -v openssl >/dev/null || die "openssl not found"
  ports
  pki
  local t0=$SECONDS
  if wanted etcd; then
    start etcd
    wait_until 30 etcd etcd_ready
  fi
  if wanted kube-apiserver; then
    start kube-apiserver
    wait_until 90 kube-apiserver api_ready
  fi
  local c
  for c in kube-controller-manager kube-scheduler sg-node-agent; do
    if wanted "$c"; then start "$c"; fi
  done
  if wanted sg-node-agent; then wait_until 60 "node $NODE_NAME Ready" node_ready; fi
  if wanted kube-controller-manager; then
    wait_until 60 "default ServiceAccount and kube-root-ca.crt" sa_ready
  fi
  log "up in $((SECONDS - t0))s; API https://127.0.0.1:$API_PORT, logs in $LOGS"
  echo "export KUBECONFIG=$RUN/admin.kubeconfig"
}

stop() {
  local name=$1 pid
  if ! pid=$(pid_of "$name"); then
    rm -f "$PIDS/$name.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.2; done
  [[ -d /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDS/$name.pid"
  log "stopped $name (pid $pid)"
}

down() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop "${COMPONENTS[i]}"; done
  # Containers this cluster's node agent created for pods (and only those:
  # another cluster on the same Docker Engine keeps its own).
  local ids
  ids=$(docker ps -a -q --filter "label=dev.schemagate.node-agent.state-dir=$RUN/node" 2>/dev/null || true)
  if [[ -n $ids ]]; then
    docker rm -f $ids >/dev/null 2>&1 || true
    log "removed $(wc -w <<<"$ids") pod container(s)"
  fi
}

status() {
  local name pid rc=0 rss total=0
  [[ -f $RUN/ports.env ]] && source "$RUN/ports.env"
  for name in "${UP_COMPONENTS[@]}"; do
    if pid=$(pid_of "$name"); then
      rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
      total=$((total + rss))
      printf '%-24s running  pid %-8s rss %6d MiB\n' "$name" "$pid" $((rss / 1024))
    else
      printf '%-24s stopped\n' "$name"
      rc=1
    fi
  done
  printf '%-24s %6d MiB\n' "control plane + agent" $((total / 1024))
  if ((rc == 0)); then
    echo "readyz: $(api_ready 2>&1 | tail -n1)"
    if wanted sg-node-agent; then $KUBECTL get nodes -o wide 2>&1 || true; fi
  fi
  return $rc
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  env) ports; echo "export KUBECONFIG=$RUN/admin.kubeconfig" ;;
  pid) pid_of "${2:?usage: $0 pid <component>}" ;;
  wipe) down; rm -rf "$RUN"; log "removed $RUN" ;;
  *) echo "usage: $0 up|down|status|env|pid <component>|wipe" >&2; exit 2 ;;
esac
