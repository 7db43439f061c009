#!/usr/bin/env bash
# clang-tidy's bug-prone checks (.clang-tidy) over the compiler core and the
# runtime: ir/, passes/ and runtime/ (CRAFT.md). Any finding fails the run.
# Needs a configured build (compile_commands.json); CI runs it after the tests.
#
#   scripts/tidy.sh                 # every file of those folders
#   scripts/tidy.sh runtime/Foo.cpp # just these
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${COCKTAIL_BUILD_DIR:-build}
JOBS=${COCKTAIL_JOBS:-$(nproc)}
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
[[ -n "$tidy" ]] || { echo "tidy: clang-tidy is not installed (scripts/setup.sh installs clang-tidy-14)" >&2; exit 2; }
[[ -f "$BUILD/compile_commands.json" ]] || { echo "tidy: no $BUILD/compile_commands.json; build first (scripts/test.sh)" >&2; exit 2; }

if (($#)); then
  files=("$@")
else
  # Left out: runtime/TorchScriptExecutor.cpp, whose LibTorch 1.13 headers
  # (ivalue_inl.h's vectors of a then incomplete c10::IValue) clang 14 cannot
  # compile against libstdc++ 12; gcc builds it, and clang-tidy would report
  # only those compile errors.
  mapfile -t files < <(git ls-files -- 'ir/*.cpp' 'passes/*.cpp' 'runtime/*.cpp' |
    grep -v '^runtime/TorchScriptExecutor\.cpp$')
fi
echo "tidy: ${#files[@]} files, $JOBS at a time"
# One process per file (its "N warnings generated" chatter, on stderr, dropped);
# xargs fails if any file has a finding.
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "$JOBS" -I{} sh -c '"$0" -p "$1" --quiet "$2" 2>/dev/null || { echo "tidy: findings in $2" >&2; exit 1; }' \
    "$tidy" "$BUILD" {} || status=$?
if ((status == 0)); then echo "tidy: clean"; else echo "tidy: failed" >&2; exit 1; fi
