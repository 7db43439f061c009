#!/bin/sh
# The tritonclient conformance test: makes tests/server/.venv (Debian's python3
# with its torch, plus tritonclient[grpc] from PyPI) on first use, then runs
# test_tritonclient.py against the cocktail-serve binary in $COCKTAIL_SERVE.
# Exits 77 (CTest: skipped) when the venv cannot be made, e.g. offline.
set -u
here=$(cd "$(dirname "$0")" && pwd)
python=${COCKTAIL_PYTHON:-/usr/bin/python3}
venv="$here/.venv"
if ! "$venv/bin/python" -c "import tritonclient.grpc" 2>/dev/null; then
  echo "server/tritonclient: creating $venv with tritonclient[grpc] from PyPI"
  if ! { "$python" -m venv --system-site-packages "$venv" &&
         "$venv/bin/pip" install -q 'tritonclient[grpc]'; }; then
    echo "server/tritonclient: SKIPPED: could not create $venv with tritonclient[grpc] (no network to PyPI?)"
    exit 77
  fi
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_tritonclient.py" "$@"
