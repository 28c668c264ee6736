#!/usr/bin/env bash
# Sets everything up and runs every test suite: unit, PostgreSQL integration
# (real servers started by the tests) and e2e (the local cluster built from
# the official Kubernetes modules, and the image built from our Dockerfile).
#   scripts/test.sh                 everything (what CI runs)
#   scripts/test.sh -L unit         one ctest label: unit, pg, e2e, fuzz or chaos
#   SG_CHAOS=1 scripts/test.sh      everything and the chaos run (docs/chaos.md)
#   SG_SKIP_E2E=1 scripts/test.sh -L 'unit|pg'   no cluster, no image
# A cluster this script brought up is stopped again at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DSCHEMAGATE_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR"
echo "test.sh: build done after $((SECONDS - start))s"

# The e2e label needs the cluster and the image; other labels do not.
want_e2e=1
if (($# > 0)) && [[ "$*" != *e2e* && "$*" != *chaos* ]]; then want_e2e=0; fi
[[ ${SG_SKIP_E2E:-} == 1 ]] && want_e2e=0

started_cluster=0
stop_cluster() {
  if ((started_cluster)); then bash scripts/cluster.sh down >/dev/null 2>&1 || true; fi
}
trap stop_cluster EXIT
if ((want_e2e)); then
  bash scripts/cluster.sh status >/dev/null 2>&1 || started_cluster=1
  bash scripts/test-prepare.sh
  echo "test.sh: cluster and image ready after $((SECONDS - start))s"
fi
extra=()
((want_e2e)) || extra=(-LE 'e2e|chaos')
# The chaos run (label chaos) only when asked for, until it has run clean
# repeatedly after the fix of what it found (docs/chaos.md, "Findings").
if ((want_e2e)) && [[ ${SG_CHAOS:-} != 1 && "$*" != *chaos* ]]; then extra=(-LE chaos); fi

rc=0
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 1200 "${extra[@]}" "$@" || rc=$?
echo "test.sh: finished in $((SECONDS - start))s"
exit $rc
