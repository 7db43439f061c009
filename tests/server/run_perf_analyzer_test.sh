#!/bin/sh
# perf_analyzer against cocktail-serve over both protocols: makes
# tests/server/.venv-perf (perf_analyzer from the tritonclient wheel pinned in
# bench/serve_lib/requirements.txt, which says why that version) on first use,
# then runs test_perf_analyzer.py against the binary in $COCKTAIL_SERVE.
# Exits 77 (CTest: skipped) when the venv cannot be made, e.g. offline.
set -u
here=$(cd "$(dirname "$0")" && pwd)
python=${COCKTAIL_PYTHON:-/usr/bin/python3}
venv="$here/.venv-perf"
if [ ! -x "$venv/bin/perf_analyzer" ]; then
  echo "server/perf_analyzer: creating $venv with perf_analyzer from PyPI"
  if ! { "$python" -m venv "$venv" &&
         "$venv/bin/pip" install -q -r "$here/../../bench/serve_lib/requirements.txt"; }; then
    echo "server/perf_analyzer: SKIPPED: could not create $venv (no network to PyPI?)"
    exit 77
  fi
fi
export PERF_ANALYZER="$venv/bin/perf_analyzer"
exec "$python" -m pytest -q -p no:cacheprovider "$here/test_perf_analyzer.py" "$@"
