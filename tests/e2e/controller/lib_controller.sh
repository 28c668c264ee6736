# Shared by the controller e2e checks (sourced after tests/e2e/cluster/lib.sh):
# applies the CRD and runs `schemagate controller` as a process of the test
# (binary: $SCHEMAGATE_BIN, else build-ctl/ or build/), stopped on exit.
SCHEMAGATE_BIN=${SCHEMAGATE_BIN:-}
if [[ -z $SCHEMAGATE_BIN ]]; then
  for b in "$SG_ROOT/build-ctl/schemagate" "$SG_ROOT/build/schemagate"; do
    [[ -x $b ]] && { SCHEMAGATE_BIN=$b; break; }
  done
fi
[[ -x $SCHEMAGATE_BIN ]] || fail "schemagate binary not found (set SCHEMAGATE_BIN)"

apply_crd() {
  k apply -f "$SG_ROOT/crds/" >/dev/null
  k wait --for=condition=Established crd/schemamigrations.schemagate.dev --timeout=60s >/dev/null ||
    fail "CRD not established"
}

# free_port: a loopback TCP port nobody listens on (from 28080 up).
free_port() {
  local p=${1:-28080}
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

# start_controller <operator-namespace> [extra flags...]: sets CTL_PID, CTL_LOG
# and CTL_METRICS (http://127.0.0.1:<port>, serving /metrics, /healthz, /readyz).
start_controller() {
  local ns=$1; shift
  CTL_LOG=$(mktemp /tmp/sg-e2e-controller.XXXXXX.log)
  SECRET_LOGS+=("$CTL_LOG")
  local port
  port=$(free_port "${CTL_PORT_FROM:-28080}")
  CTL_METRICS=http://127.0.0.1:$port
  "$SCHEMAGATE_BIN" controller --kubeconfig "$KUBECONFIG" --namespace "$ns" \
    --job-image schemagate:dev --metrics-addr "127.0.0.1:$port" "$@" >"$CTL_LOG" 2>&1 &
  CTL_PID=$!
  CLEANUPS+=("kill -TERM $CTL_PID 2>/dev/null; wait $CTL_PID 2>/dev/null; echo '--- controller log'; tail -n 40 $CTL_LOG")
}

# metric_value <series> (exact name{labels} as exposed): its value, or empty.
metric_value() {
  curl -fsS "$CTL_METRICS/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}

# sm_field <name> <jsonpath>
sm_field() { k -n "$NS" get sm "$1" -o "jsonpath=$2"; }
