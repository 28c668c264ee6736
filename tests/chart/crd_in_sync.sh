#!/usr/bin/env bash
# The chart's CRD (charts/schemagate/crds/) is a copy of crds/, the single
# source of truth: Helm installs crds/ of a chart only from inside the chart
# directory, and a copy (unlike a symlink) survives `helm package`, Argo CD
# and Flux sources alike. scripts/render-manifests.sh refreshes the copy.
set -euo pipefail
ROOT=${SG_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
src=$ROOT/crds/schemagate.dev_schemamigrations.yaml
copy=$ROOT/charts/schemagate/crds/schemagate.dev_schemamigrations.yaml
if ! diff -u "$src" "$copy"; then
  echo "FAIL: $copy differs from $src: run scripts/render-manifests.sh" >&2
  exit 1
fi
# Nothing else in either directory that would be installed as a CRD.
[[ $(ls "$ROOT/crds") == "$(ls "$ROOT/charts/schemagate/crds")" ]] ||
  { echo "FAIL: crds/ and charts/schemagate/crds/ hold different files" >&2; exit 1; }
echo "PASS: charts/schemagate/crds/ is identical to crds/"
