#!/usr/bin/env bash
# Seeds the base image the Dockerfile names (debian:bookworm-slim) into the
# local Docker Engine without any registry: debootstrap a minimal bookworm
# (variant minbase) from the apt mirror this machine's own apt configuration
# uses, trim it like the official slim image, and `docker import` it.
#   scripts/base-image.sh [tag]     default: the FROM tag of ./Dockerfile
# Skips everything when the tag already exists; keeps the root filesystem
# tarball under .cache/base-image/ so a wiped Docker store re-imports quickly.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-$(awk 'toupper($1)=="FROM"{print $2; exit}' "$ROOT/Dockerfile")}
SUITE=bookworm
CACHE="$ROOT/.cache/base-image"
TARBALL="$CACHE/$SUITE-minbase.tar"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base-image: $TAG present"
  exit 0
fi

# The first Debian archive URI this machine's apt sources use for $SUITE
# (deb822 .sources files first, then one-line .list files).
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (uri != "" && has) { print uri; exit } uri=""; has=0; next }
      /^URIs:/ { uri=$2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has=1 }
      END { if (uri != "" && has) print uri }' "$f" | head -n1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '$1=="deb" { for (i = 2; i <= NF; i++) if ($i == suite) { u=$2; if (u ~ /^\[/) u=$3; print u; exit } }' "$f"
  done
}

if [[ ! -s $TARBALL ]]; then
  MIRROR=$(apt_mirror | head -n1)
  [[ -n $MIRROR ]] || { echo "base-image: no apt source for $SUITE in /etc/apt" >&2; exit 1; }
  command -v debootstrap >/dev/null || { echo "base-image: debootstrap missing (scripts/setup.sh installs it)" >&2; exit 1; }
  mkdir -p "$CACHE"
  ROOTFS=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$ROOTFS"' EXIT
  echo "base-image: debootstrap $SUITE (minbase) into $ROOTFS"
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
  # The image's apt sources are this machine's, so apt inside `docker build`
  # reaches the same archive the host does.
  rm -f "$ROOTFS/etc/apt/sources.list"
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [[ -s $f ]] && cp "$f" "$ROOTFS/etc/apt/$( [[ $f == *.sources ]] && echo sources.list.d/ )$(basename "$f")"
  done
  # Trimmed like the official slim variant: no docs, man pages or locales.
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  cat >"$ROOTFS/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'APT::Install-Recommends "false";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-recommends"
  find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/lib/apt/lists/* \
    "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  tar --numeric-owner -C "$ROOTFS" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi

echo "base-image: importing $TARBALL as $TAG"
docker import --change 'CMD ["bash"]' "$TARBALL" "$TAG" >/dev/null
docker image inspect -f '{{.Id}} {{.Size}}' "$TAG"
