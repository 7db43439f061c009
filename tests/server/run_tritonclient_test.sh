#!/bin/sh
# The tritonclient conformance test: makes tests/server/.venv (Debian's python3
# with its torch, plus tritonclient[grpc,http] from PyPI) on first use, then runs
# test_tritonclient.py (gRPC) and test_http.py (HTTP/REST, the CLI, the docs' curl
# examples) against the cocktail-serve binary in $COCKTAIL_SERVE.
# Exits 77 (CTest: skipped) when the venv cannot be made, e.g. offline.
set -u
here=$(cd "$(dirname "$0")" && pwd)
python=${COCKTAIL_PYTHON:-/usr/bin/python3}
venv="$here/.venv"
if ! "$venv/bin/python" -c "import tritonclient.grpc, tritonclient.http" 2>/dev/null; then
  echo "server/tritonclient: creating $venv with tritonclient[grpc,http] from PyPI"
  if ! { "$python" -m venv --system-site-packages "$venv" &&
         "$venv/bin/pip" install -q 'tritonclient[grpc,http]'; }; then
    echo "server/tritonclient: SKIPPED: could not create $venv with tritonclient[grpc,http] (no network to PyPI?)"
    exit 77
  fi
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_tritonclient.py" "$here/test_http.py" "$here/test_triton_config.py" "$here/test_sequences.py" "$@"
