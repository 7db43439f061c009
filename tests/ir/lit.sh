#!/usr/bin/env bash
# A minimal lit: runs the RUN lines of one test file.
#
#   lit.sh TEST_FILE TOOLS_DIR[:TOOLS_DIR...]
#
# A RUN line is a comment `// RUN: ...` (.ir files) or `# RUN: ...` (.py and
# other files whose comments start with #). Each RUN line has `%s` replaced
# by the test file's path, `%S` by the directory that holds it, `%t` by a
# path for a temporary file (removed afterwards), and `%python` by the
# Python interpreter ($COCKTAIL_PYTHON, default /usr/bin/python3), and runs
# under `bash -o pipefail` with the TOOLS_DIRs (cocktail-opt,
# cocktail-compile, ...; several separated by ':') and LLVM 14's FileCheck,
# not and split-file on PATH. The test fails if any RUN line fails, or if
# the file has none.
set -u
if [[ $# -ne 2 ]]; then
  echo "usage: lit.sh TEST_FILE TOOLS_DIR[:TOOLS_DIR...]" >&2
  exit 2
fi
file=$1
export PATH="$2:/usr/lib/llvm-14/bin:$PATH"
quoted=$(printf '%q' "$file")
quoted_dir=$(printf '%q' "$(cd "$(dirname "$file")" && pwd)")
python=$(printf '%q' "${COCKTAIL_PYTHON:-/usr/bin/python3}")
tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
tmp=$(printf '%q' "$tmpdir/$(basename "$file").tmp")
runs=0
failed=0
while IFS= read -r line || [[ -n $line ]]; do
  [[ $line =~ ^[[:space:]]*(//|#)[[:space:]]*RUN:[[:space:]]*(.*)$ ]] || continue
  cmd=${BASH_REMATCH[2]//%python/$python}
  cmd=${cmd//%s/$quoted}
  cmd=${cmd//%S/$quoted_dir}
  cmd=${cmd//%t/$tmp}
  runs=$((runs + 1))
  echo "RUN: $cmd"
  if ! bash -o pipefail -c "$cmd"; then
    echo "FAILED: $cmd" >&2
    failed=1
  fi
done <"$file"
if [[ $runs -eq 0 ]]; then
  echo "no RUN lines in $file" >&2
  exit 1
fi
exit $failed
