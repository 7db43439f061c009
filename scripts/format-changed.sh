#!/usr/bin/env bash
# Formats the C++ lines a change touches, with the repo's .clang-format
# (CRAFT.md: a change does not reformat lines it has no reason to touch).
#
#   scripts/format-changed.sh              # lines changed since HEAD (staged or not)
#   scripts/format-changed.sh main         # lines changed since main
#   scripts/format-changed.sh --check main # exit 1, showing the diff, if any needs formatting
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [[ "${1:-}" == --check ]]; then
  check=1
  shift
fi
base=${1:-HEAD}
formatter=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n "$formatter" ]] || { echo "format-changed: clang-format is not installed (scripts/setup.sh installs clang-format-14)" >&2; exit 2; }
git_clang_format=$(command -v git-clang-format-14 || command -v git-clang-format || true)
[[ -n "$git_clang_format" ]] || { echo "format-changed: git-clang-format is not installed (it comes with clang-format-14)" >&2; exit 2; }

# Changed files that still exist, C++ only; git clang-format then limits
# itself to the changed lines of each.
mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- '*.cpp' '*.h' '*.cu' '*.cc')
mapfile -t -O "${#files[@]}" files < <(git ls-files --others --exclude-standard -- '*.cpp' '*.h' '*.cu' '*.cc')
((${#files[@]})) || { echo "format-changed: no C++ file changed since $base"; exit 0; }

if ((check)); then
  out=$("$git_clang_format" --binary "$formatter" --diff "$base" -- "${files[@]}" || true)
  if [[ -z "$out" || "$out" == *"no modified files to format"* || "$out" == *"did not modify any files"* ]]; then
    echo "format-changed: the changed lines are formatted"
    exit 0
  fi
  echo "$out"
  echo "format-changed: the lines above need formatting: scripts/format-changed.sh $base" >&2
  exit 1
fi
"$git_clang_format" --binary "$formatter" -f "$base" -- "${files[@]}"
