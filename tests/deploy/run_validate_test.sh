#!/bin/sh
# deploy/'s manifests and Containerfile, checked offline (test_manifests.py):
# makes tests/deploy/.venv (Debian's python3 with its torch and pytest, plus
# kubernetes-validate from PyPI, which bundles the Kubernetes schemas) on first
# use, then runs the checks against the cocktail-serve binary in $COCKTAIL_SERVE.
# Exits 77 (CTest: skipped) when the venv cannot be made, e.g. offline.
set -u
here=$(cd "$(dirname "$0")" && pwd)
python=${COCKTAIL_PYTHON:-/usr/bin/python3}
venv="$here/.venv"
if ! "$venv/bin/python" -c "import kubernetes_validate" 2>/dev/null; then
  echo "deploy/validate: creating $venv with kubernetes-validate from PyPI"
  if ! { "$python" -m venv --system-site-packages "$venv" &&
         "$venv/bin/pip" install -q -r "$here/requirements.txt"; }; then
    echo "deploy/validate: SKIPPED: could not create $venv with kubernetes-validate (no network to PyPI?)"
    exit 77
  fi
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_manifests.py" "$@"
