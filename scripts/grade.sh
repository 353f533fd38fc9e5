#!/usr/bin/env bash
# The instructor's command (README, "For instructors"): a verdict per lab and per check on a
# student's work, against the reference outputs in labs/ of THIS tree.
#
#   scripts/grade.sh <folder> [--json FILE] [--brief]
#       grades a folder of the student's lab outputs: lab00.txt ... lab03.txt (what each lab
#       printed on stdout; the binaries' names, lab00-block-by-hand.txt ..., work too).
#   scripts/grade.sh --build <student-tree> [--json FILE] [--brief]
#       builds the student's clone with its `starter` preset (into <tree>/build-grade; the
#       student's code is <tree>/student/), runs every lab into <tree>/build-grade/outputs/,
#       then grades that folder as above.
#
# Exit status: 0 when every lab passes, 1 when one fails or is missing, 2 on bad input.
# The grader is build/bin/labgrade (built here if needed); MINIMODEL_BUILD_DIR=<dir> uses an
# already configured build directory instead of build/.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  echo "usage: scripts/grade.sh <folder-of-outputs> [--json FILE] [--brief]" >&2
  echo "       scripts/grade.sh --build <student-tree> [--json FILE] [--brief]" >&2
  exit 2
}
die() { echo "grade.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || usage
build_tree=""
if [ "$1" = "--build" ]; then
  [ $# -ge 2 ] || usage
  build_tree="$2"
  shift 2
  [ -d "$build_tree" ] || die "the student's tree '$build_tree' is not a folder"
  [ -f "$build_tree/CMakePresets.json" ] || die "'$build_tree' has no CMakePresets.json: give the root of the student's clone"
  build_tree="$(cd "$build_tree" && pwd)"
else
  case "$1" in -*) usage ;; esac
  folder="$1"
  shift
  [ -d "$folder" ] || die "the submission folder '$folder' does not exist or is not a folder"
fi
for arg in "$@"; do
  case "$arg" in --build) die "--build comes first: scripts/grade.sh --build <student-tree>" ;; esac
done

# The grader, from this tree.
build_dir="${MINIMODEL_BUILD_DIR:-$here/build}"
if [ -z "${MINIMODEL_BUILD_DIR:-}" ]; then
  (cd "$here" && scripts/setup.sh >/dev/null && cmake --preset release >/dev/null)
fi
cmake --build "$build_dir" --target labgrade >/dev/null || die "could not build labgrade in $build_dir"

if [ -n "$build_tree" ]; then
  echo "grade.sh: building $build_tree (preset starter, student code in $build_tree/student/)"
  (cd "$build_tree" && cmake --preset starter -B build-grade >/dev/null &&
     cmake --build build-grade --target lab00-block-by-hand lab01-assemble-mini-gpt \
       lab02-parameter-inventory lab03-causality-perturbation) > "$build_tree/build-grade.log" 2>&1 ||
    { echo "grade.sh: the student's tree does not build; the last lines of $build_tree/build-grade.log:" >&2
      tail -n 20 "$build_tree/build-grade.log" >&2
      exit 1; }
  folder="$build_tree/build-grade/outputs"
  mkdir -p "$folder"
  for dir in "$here"/labs/[0-9][0-9]-*/; do
    name="$(basename "$dir")"
    number="${name%%-*}"
    status=0
    timeout 300 "$build_tree/build-grade/bin/lab$name" > "$folder/lab$number.txt" 2> "$folder/lab$number.stderr" || status=$?
    echo "grade.sh: lab$name exited $status$([ $status -gt 1 ] && echo " (an error or a crash: see $folder/lab$number.stderr)" || true)"
  done
  echo
fi

exec "$build_dir/bin/labgrade" "$folder" "$@"
