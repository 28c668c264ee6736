#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz) under AddressSanitizer and UBSan.
#   scripts/fuzz.sh [seconds] [target...]   each target for `seconds` (30)
#   scripts/fuzz.sh --build-only            only build the clang tree
#   scripts/fuzz.sh --no-build 30 fuzz_sql_splitter   (what ctest runs)
# The clang tree is build-fuzz/ (FUZZ_BUILD_DIR). Seeds are read from
# tests/fuzz/corpus/<target>/; what a run learns goes to
# build-fuzz/corpus/<target>/ and is reused by the next run; a crash, leak,
# timeout or UB report goes to build-fuzz/findings/<target>/ and fails the
# run, printing the command that replays it. One line per target:
#   fuzz: <target> <seconds>s <execs> runs (<per s>/s), corpus <n>, cov <edges>: no finding
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
build=1 run=1
case ${1:-} in
  --build-only) run=0; shift ;;
  --no-build) build=0; shift ;;
esac
seconds=${1:-30}
[[ $# -gt 0 ]] && shift
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=()
  for f in "$ROOT"/tests/fuzz/fuzz_*.cc; do targets+=("$(basename "$f" .cc)"); done
fi

if ((build)); then
  command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2; exit 1; }
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSCHEMAGATE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --target fuzzers | tail -n 1
fi
((run)) || exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
for t in "${targets[@]}"; do
  bin=$BUILD/tests/fuzz/$t
  [[ -x $bin ]] || { echo "fuzz: $t not built in $BUILD (run without --no-build)" >&2; exit 1; }
  seeds=$ROOT/tests/fuzz/corpus/$t
  work=$BUILD/corpus/$t
  findings=$BUILD/findings/$t
  mkdir -p "$work" "$findings"
  log=$BUILD/findings/$t.log
  # New inputs go to the first directory only: the seeds stay as committed.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$work" "$seeds" >"$log" 2>&1; then
    execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log")
    per=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | cut -d' ' -f2)
    corpus=$(find "$work" "$seeds" -type f | wc -l)
    echo "fuzz: $t ${seconds}s ${execs:-?} runs (${per:-?}/s), corpus $corpus, cov ${cov:-?}: no finding"
  else
    rc=1
    echo "fuzz: $t FINDING (log: $log)" >&2
    grep -E 'ERROR: |runtime error|SUMMARY|Test unit written' "$log" | head -n 8 >&2 || true
    for a in "$findings"/*; do
      [[ -f $a ]] && echo "fuzz: replay with: $bin $a" >&2
    done
  fi
done
exit $rc
