#!/usr/bin/env bash
# Prepares the e2e label for scripts/test.sh: builds the pinned cluster
# binaries (cached under .cache/cluster/<pin>), the schemagate:dev image
# (Docker layer cache) and brings the local cluster up. Idempotent; a few
# seconds when everything is warm. Prints a timing line per step.
#   SG_SKIP_E2E=1 scripts/test-prepare.sh   does nothing
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ ${SG_SKIP_E2E:-} == 1 ]] && { echo "test-prepare: skipped (SG_SKIP_E2E=1)"; exit 0; }
mkdir -p "$ROOT/.cache"
step() {
  local name=$1 t0=$SECONDS; shift
  "$@"
  echo "test-prepare: $name $((SECONDS - t0))s" >&2
}
step "cluster binaries" bash "$ROOT/scripts/cluster-build.sh" >/dev/null
step "image" bash "$ROOT/scripts/image.sh" >/dev/null
step "cluster up" bash "$ROOT/scripts/cluster.sh" up | tail -n1
