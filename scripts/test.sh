#!/usr/bin/env bash
# Sets everything up and runs every test suite: unit, PostgreSQL integration,
# and (when the local cluster can be built) the e2e suites.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    only one ctest label (unit, pg, e2e)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DSCHEMAGATE_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR"

if [[ -x scripts/test-prepare.sh ]]; then
  # Builds the local cluster and the image for the e2e label.
  bash scripts/test-prepare.sh
fi

ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 900 "$@"
