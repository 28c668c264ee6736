#!/usr/bin/env bash
# Installs every system dependency of schemagate from Debian packages.
# Idempotent: packages already present are not reinstalled and the package
# lists are refreshed only when something is missing. Works as root or
# through sudo.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config git ca-certificates
  # libraries (see README: Dependencies)
  libcpprest-dev libpqxx-dev libpq-dev libyaml-cpp-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  # tests: a real PostgreSQL server and client
  postgresql-15 postgresql-client-15
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer's runtime
  clang libclang-rt-14-dev
  # tooling
  clang-format procps psmisc openssl curl jq
  # local cluster: base image seeding
  debootstrap
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postgresql's maintainer scripts would start a cluster service; tests start
# their own servers, so keep the packaged one from being created.
if [[ ! -e /etc/postgresql-common/createcluster.conf ]] || ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf 2>/dev/null; then
  $SUDO mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
