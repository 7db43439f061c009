#!/usr/bin/env bash
# Runs every test: configures and builds what is out of date, then CTest runs
# the gtest suites, the FileCheck IR and frontend tests and the pytest
# differential tests (compiled models against the TorchScript interpreter).
#
#   scripts/test.sh [extra ctest arguments, e.g. -R e2e]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in other folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
JOBS=${COCKTAIL_JOBS:-$(nproc)}
[[ -f build/build.ninja ]] || cmake --preset default >/dev/null
cmake --build --preset default -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS" "$@"
