#!/usr/bin/env bash
# Builds the schemagate container image (default tag schemagate:dev) from the
# top-level Dockerfile. Seeds the Dockerfile's base image first when the local
# Docker Engine lacks it (scripts/base-image.sh): there is no registry here.
#   scripts/image.sh [tag]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-schemagate:dev}
bash "$ROOT/scripts/base-image.sh" >/dev/null
t0=$SECONDS
# --network host: apt inside the build reaches the package archive the way
# the host does.
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --network host -t "$TAG" -f "$ROOT/Dockerfile" "$ROOT" \
  >"$ROOT/.cache/image-build.log" 2>&1 || { tail -n 40 "$ROOT/.cache/image-build.log" >&2; exit 1; }
echo "image: $TAG built in $((SECONDS - t0))s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.1f MB", $1/1e6}'))"
