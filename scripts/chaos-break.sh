#!/usr/bin/env bash
# Sees the chaos suite fail: builds schemagate with one hole of the
# exclusion guarantee put back (tests/chaos/breaks/<hole>.patch, applied to
# a worktree of HEAD), runs scripts/chaos.sh against it (the controller
# replicas and the Jobs' runner both from the broken build), and passes only
# if the suite reports violations.
#   scripts/chaos-break.sh token0     Jobs run with token 0, unfenced
#   scripts/chaos-break.sh reread     no re-read of the version under the fence
#   scripts/chaos-break.sh release    the Lease released while a runner pod still runs
#   scripts/chaos-break.sh release --faults 100 --seed 7   (chaos.sh flags pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
hole=${1:?usage: scripts/chaos-break.sh token0|reread|release [chaos.sh flags]}
shift
patch=$ROOT/tests/chaos/breaks/$hole.patch
[[ -f $patch ]] || { echo "chaos-break: no $patch" >&2; exit 2; }
SRC=$ROOT/.cache/chaos/break-src
BUILD=$ROOT/.cache/chaos/break-build
if [[ ! -d $SRC ]]; then
  git worktree add --detach "$SRC" HEAD >/dev/null
else
  git -C "$SRC" checkout -q --detach "$(git rev-parse HEAD)"
  git -C "$SRC" reset -q --hard
fi
git -C "$SRC" apply "$patch"
echo "chaos-break: $hole: $(git -C "$SRC" diff --stat | tail -n1)"
generator=()
[[ -f $BUILD/CMakeCache.txt ]] || generator=(-G Ninja)
cmake -S "$SRC" -B "$BUILD" "${generator[@]}" -DSCHEMAGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target schemagate >/dev/null
# The runner in the Jobs is the broken one too: our image with its binary.
ctx=$(mktemp -d)
cp "$BUILD/schemagate" "$ctx/schemagate"
printf 'FROM schemagate:dev\nCOPY schemagate /usr/local/bin/schemagate\n' >"$ctx/Dockerfile"
docker build -q -t schemagate:chaos-break "$ctx" >/dev/null
rm -rf "$ctx"
set +e
SCHEMAGATE_BIN=$BUILD/schemagate SG_CHAOS_IMAGE=schemagate:chaos-break bash scripts/chaos.sh "$@"
rc=$?
set -e
git -C "$SRC" reset -q --hard
if ((rc == 1)); then
  echo "chaos-break: $hole: the suite reported violations, as it must"
  exit 0
fi
echo "chaos-break: $hole: the suite did NOT catch the broken build (exit $rc)"
exit 1
