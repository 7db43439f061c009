#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary links
# directly (its NEEDED entries), one a line, sorted: what the image's runtime
# stage installs by name, apt bringing their own dependencies (the build
# stage's -dev packages stay behind). A library that no package owns (one
# under /usr/local, say) or that ldd cannot find is named on stderr, and the
# exit status is 1, so an image never ships without a library it needs.
#
#   deploy/runtime-packages.sh build/server/cocktail-serve
set -euo pipefail
if [[ $# -ne 1 || ! -x "$1" ]]; then
  echo "usage: $0 EXECUTABLE (got: ${*:-nothing})" >&2
  exit 2
fi

# Debian 12 has merged /usr, but dpkg records most libraries under /lib: ask
# for the path as ldd prints it, as the link resolves, and with /usr added or
# taken away.
owner() {
  local lib=$1 real candidates
  real=$(readlink -f "$lib")
  candidates=("$lib" "$real" "${lib#/usr}" "/usr$lib" "${real#/usr}" "/usr$real")
  for path in "${candidates[@]}"; do
    if pkg=$(dpkg-query -S "$path" 2>/dev/null); then
      # "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6" -> libc6
      echo "${pkg%%:*}"
      return 0
    fi
  done
  return 1
}

# The NEEDED names, e.g. "libtorch.so.1.13"; ldd says where each resolves.
mapfile -t needed < <(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
is_needed() {
  local name
  for name in "${needed[@]}"; do [[ "$name" == "$1" ]] && return 0; done
  return 1
}

status=0
packages=()
while read -r line; do
  is_needed "${line%% *}" || continue
  case "$line" in
    *"=> not found"*)
      echo "runtime-packages: $1 needs ${line%% *}, which ldd cannot find" >&2
      status=1 ;;
    *"=> /"*)
      lib=${line#*=> }
      lib=${lib%% (*}
      if pkg=$(owner "$lib"); then
        packages+=("$pkg")
      else
        echo "runtime-packages: $lib (needed by $1) is not from a Debian package" >&2
        status=1
      fi ;;
  esac
done < <(ldd "$1")
printf '%s\n' "${packages[@]}" | sort -u
exit $status
