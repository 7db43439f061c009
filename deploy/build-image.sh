#!/usr/bin/env bash
# Builds cocktail-serve's image from this source tree with podman, or docker
# where its daemon runs. No image registry is needed: the base, Debian 12
# (bookworm), is made here by debootstrap from Debian's mirror and imported
# as localhost/debian:bookworm, once.
#
#   deploy/build-image.sh [--tag localhost/cocktail-serve:latest] [--engine podman|docker]
#   deploy/build-image.sh --check     # exit 0 when an engine can build, else 3 with the reason
#
# Making the base needs root and debootstrap (apt-get install debootstrap);
# DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=localhost/cocktail-serve:latest
BASE=localhost/debian:bookworm
ENGINE=""
CHECK_ONLY=0
while (($#)); do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --engine) ENGINE=$2; shift 2 ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# An engine that can build: podman installed and working, or a docker client
# whose daemon answers. Prints its name, or why there is none.
find_engine() {
  local why=()
  for e in ${ENGINE:-podman docker}; do
    if ! command -v "$e" >/dev/null; then
      why+=("$e is not installed")
    elif ! "$e" info >/dev/null 2>&1; then
      why+=("$e does not work here ('$e info' fails$([[ $e == docker ]] && echo ': no daemon'))")
    else
      echo "$e"
      return 0
    fi
  done
  local joined
  joined=$(printf '%s; ' "${why[@]}")
  echo "no container engine: ${joined%; }"
  return 3
}

if ! ENGINE=$(find_engine); then
  echo "build-image: $ENGINE" >&2
  exit 3
fi
((CHECK_ONLY)) && { echo "build-image: $ENGINE can build"; exit 0; }

if ! "$ENGINE" image inspect "$BASE" >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]] || ! command -v debootstrap >/dev/null; then
    echo "build-image: no $BASE image, and making it needs root and debootstrap" >&2
    exit 1
  fi
  root=$(mktemp -d /var/tmp/cocktail-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "build-image: making $BASE with debootstrap in $root"
  debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -c . | "$ENGINE" import - "$BASE"
fi

# podman writes OCI images by default, which drop HEALTHCHECK; the docker
# format keeps it.
format=()
[[ $ENGINE == podman ]] && format=(--format docker)
echo "build-image: $ENGINE build -t $TAG (from $BASE)"
"$ENGINE" build "${format[@]}" --build-arg "BASE=$BASE" -f deploy/Containerfile -t "$TAG" .
