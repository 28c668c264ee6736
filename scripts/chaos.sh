#!/usr/bin/env bash
# The chaos suite (docs/chaos.md): two `schemagate controller` replicas on a
# cluster of the suite's own, a throw-away PostgreSQL, a workload of shared
# databases, and random faults from a printed seed; the invariants are
# checked from the database's own records. Prints a line per fault, a table
# of faults by kind, convergence times, and last
#   chaos: <N> faults, <V> violations, seed <S>
# Exit status 1 when V > 0 (the state directory is then kept as evidence).
#   scripts/chaos.sh                          100 faults, about 6 min of faults
#   scripts/chaos.sh --faults 1000 --seed 7   the long run (docs/chaos.md)
#   scripts/chaos.sh --minutes 10             spread the faults over 10 min
# Needs the local cluster binaries (scripts/cluster-build.sh), the image
# (scripts/image.sh) and build/schemagate; SCHEMAGATE_BIN, SG_CHAOS_IMAGE
# override the binary and the runner image.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${SCHEMAGATE_BIN:-$ROOT/build/schemagate}
IMAGE=${SG_CHAOS_IMAGE:-schemagate:dev}
[[ -x $BIN ]] || { echo "chaos: $BIN not built (cmake --build build)" >&2; exit 2; }
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "chaos: image $IMAGE missing (scripts/image.sh)" >&2; exit 2; }
source scripts/cluster-env.sh
[[ -x $CLUSTER_BIN/kube-apiserver ]] || { echo "chaos: cluster binaries missing (scripts/cluster-build.sh)" >&2; exit 2; }

mkdir -p .cache/chaos
(cd tests/chaos && GOFLAGS="-buildvcs=false -mod=readonly" go build -p 2 -trimpath -o "$ROOT/.cache/chaos/chaos" .)

RUN=$(mktemp -d /tmp/sg-chaos.XXXXXX)
chmod 755 "$RUN"  # the postgres account reaches its data directory through it
cleanup() {
  # Should the suite itself die, end what it started, by PID.
  local f
  for f in "$RUN"/*.log.pid; do
    [[ -f $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  if [[ -d $RUN/cluster ]]; then CLUSTER_RUN=$RUN/cluster bash scripts/cluster.sh down >/dev/null 2>&1 || true; fi
  if [[ -f $RUN/pg/data/postmaster.pid ]]; then
    local as=()
    [[ $(id -u) -eq 0 ]] && as=(runuser -u postgres --)
    "${as[@]}" "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/pg_ctl" -D "$RUN/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
set +e
"$ROOT/.cache/chaos/chaos" --root "$ROOT" --schemagate "$BIN" --image "$IMAGE" --run-dir "$RUN" "$@"
rc=$?
set -e
if ((rc == 0)); then rm -rf "$RUN"; fi
exit $rc
