#!/usr/bin/env bash
# The controller's memory with many large ConfigMaps it does not use in its
# watch scope (hostile input: one tenant must not be able to OOM the
# operator). On the local cluster (scripts/cluster.sh up), for each binary:
# start `schemagate controller` watching a namespace that holds COUNT
# ConfigMaps of KIB KiB each (random data, created 20 per request), wait for
# "caches synced", then read its peak (VmHWM) and current (VmRSS) resident
# memory from /proc; stop it. Prints a line per binary, the ratio against
# the baseline, and the chart's limit. Figures only, never a verdict.
#   bench/configmap_memory.sh [--count 1000] [--kib 512] [--baseline BIN] [BIN]
# BIN defaults to build/schemagate. The ConfigMaps are ~COUNT*KIB KiB in
# etcd (quota 2 GiB): the namespace is deleted at the end, but etcd keeps
# the space until compacted; `scripts/cluster.sh wipe` gives it back.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
count=1000 kib=512 baseline="" bins=()
while (($#)); do
  case $1 in
    --count) count=$2; shift 2 ;;
    --kib) kib=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
((${#bins[@]})) || bins=("$ROOT/build/schemagate")
[[ -n $baseline ]] && bins=("$baseline" "${bins[@]}")
source "$ROOT/scripts/cluster-env.sh"
eval "$(bash "$ROOT/scripts/cluster.sh" env)"
export KUBECONFIG
k() { "$CLUSTER_BIN/kubectl" "$@"; }
k get --raw /readyz >/dev/null || { echo "bench: the local cluster is not up (scripts/cluster.sh up)" >&2; exit 1; }
k apply -f "$ROOT/crds/" >/dev/null
k wait --for=condition=Established crd/schemamigrations.schemagate.dev --timeout=60s >/dev/null

ns=bench-cm-$RANDOM
op=bench-cm-op-$RANDOM
k create namespace "$ns" >/dev/null
k create namespace "$op" >/dev/null
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  k delete namespace "$ns" "$op" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

t0=$SECONDS
batches=$(mktemp -d /tmp/sg-bench-cm.XXXXXX)
python3 - "$ns" "$count" "$kib" "$batches" <<'PY'
import base64, json, os, sys
ns, count, kib, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
raw = kib * 1024 * 3 // 4
for start in range(0, count, 20):
    items = []
    for i in range(start, min(count, start + 20)):
        items.append({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": f"unrelated-{i:05d}", "namespace": ns},
                      "data": {"blob.txt": base64.b64encode(os.urandom(raw)).decode()}})
    with open(f"{out}/{start:06d}.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
PY
for f in "$batches"/*.json; do k create -f "$f" >/dev/null; done
rm -rf "$batches"
echo "bench: $count ConfigMaps of $kib KiB in $ns ($((SECONDS - t0)) s to create)"

free_port() {
  local p=29080
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

first_peak=""
for bin in "${bins[@]}"; do
  log=$(mktemp /tmp/sg-bench-cm.XXXXXX.log)
  start=$(date +%s.%N)
  "$bin" controller --kubeconfig "$KUBECONFIG" --namespace "$op" --namespaces "$ns" \
    --leader-elect=false --metrics-addr "127.0.0.1:$(free_port)" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  peak=0
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    grep -q "caches synced" "$log" && break
    sleep 0.2
  done
  synced=$(echo "$(date +%s.%N) - $start" | bc)
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "bench: $bin ended before its caches synced (killed by the kernel?); last lines:" >&2
    tail -n 5 "$log" >&2
    continue
  fi
  sleep 2  # let the first reconciles and resyncs settle (figures, not a wait for state)
  peak=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
  rss=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  printf 'bench: %-40s peak RSS %7.1f MiB, RSS after sync %7.1f MiB, synced in %5.1f s\n' \
    "$(basename "$(dirname "$bin")")/$(basename "$bin")" "$(echo "$peak / 1024" | bc -l)" \
    "$(echo "$rss / 1024" | bc -l)" "$synced"
  if [[ -z $first_peak ]]; then
    first_peak=$peak
  elif [[ -n $baseline ]]; then
    printf 'bench: peak RSS ratio against the baseline: %.3f\n' "$(echo "$peak / $first_peak" | bc -l)"
  fi
  rm -f "$log"
done
echo "bench: the chart's memory limit is $(awk '/limits:/ {l=1} l && /memory:/ {print $2; exit}' "$ROOT/charts/schemagate/values.yaml")"
