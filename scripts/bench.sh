#!/usr/bin/env bash
# Builds and runs the runner benchmark (bench/runner_bench.cc): schemagate
# migrate against the psql floor, and status/up with 10,000 applied versions.
# It prints figures; it never fails on a slow result.
#   scripts/bench.sh                               defaults (1000 migrations, 3 rounds)
#   scripts/bench.sh --migrations 200 --rounds 5   any runner_bench flag passes through
#   BUILD_DIR=build-bench scripts/bench.sh         another build directory (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${BUILD_JOBS:-2}
generator=()
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
# The project's default build type (RelWithDebInfo) is the measured one; the
# bench needs the test support library (the PostgreSQL fixture).
cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DSCHEMAGATE_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target runner_bench schemagate

exec "$BUILD_DIR/bench/runner_bench" --schemagate "$BUILD_DIR/schemagate" "$@"
