#!/usr/bin/env bash
# CI's proof that the untouched starter works (scripts/test.sh runs it; docs/ci.md): generates the starter into a fresh scratch folder, builds it with
# AddressSanitizer + UndefinedBehaviorSanitizer, runs every lab, and checks that
#   - no lab crashed: exit status 0 or 1 only, and no sanitizer report;
#   - the checks that fail are exactly those in tests/starter/expected-failures.txt, each with
#     the piece it needs ("not implemented yet (<piece>)"), as labgrade lists them;
# then fills pieces in as a student would, from the solution's own files: LayerNorm alone must
# leave fewer failing checks, none of them LayerNorm's; every marked file must pass every lab.
#
#   scripts/starter-check.sh <labgrade>            check (CI)
#   scripts/starter-check.sh <labgrade> --update   rewrite tests/starter/expected-failures.txt;
#                                                  read `git diff tests/starter/` before committing
# STARTER_CHECK_DIR=<dir> keeps the scratch build there (default: a temporary folder, removed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/starter-check.sh <path to labgrade> [--update]" >&2; exit 2; }
labgrade="$1"
update=0
[ "${2:-}" = "--update" ] && update=1
[ -x "$labgrade" ] || { echo "starter-check.sh: '$labgrade' is not an executable labgrade" >&2; exit 2; }

if [ -n "${STARTER_CHECK_DIR:-}" ]; then
  work="$STARTER_CHECK_DIR"
  rm -rf "$work"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

# Fresh student copies (never the developer's student/), sanitizers on, Debug: it compiles
# faster than the preset's Release and catches more.
cmake --preset starter -B "$work/build" -DMINIMODEL_STUDENT_DIR="$work/student" \
  -DCMAKE_BUILD_TYPE=Debug -DMINIMODEL_SANITIZE=ON >/dev/null
cmake --build "$work/build" --target labs

# A sanitizer report has its own exit status (86, 87: cmake/sanitizer_options.cmake), never
# "a check failed" (exit 1).
mapfile -t lab_folders < labs/labs.txt   # the list of the labs
# run_labs <outputs> <what>: every lab into <outputs>/labNN.txt; exit 0 or 1 only, no report.
run_labs() {
  mkdir -p "$1"
  local name number status
  for name in "${lab_folders[@]}"; do
    number="${name%%-*}"
    status=0
    "$work/build/bin/lab$name" > "$1/lab$number.txt" 2> "$1/lab$number.stderr" || status=$?
    if [ $status -gt 1 ] || grep -q "Sanitizer\|runtime error" "$1/lab$number.stderr"; then
      echo "starter-check.sh: lab$name crashed or failed to run on $2 (exit $status):"
      cat "$1/lab$number.stderr"
      exit 1
    fi
    echo "starter-check.sh: lab$name ran on $2, exit $status, no sanitizer report"
  done
}
outputs="$work/outputs"
run_labs "$outputs" "the untouched starter"

expected=tests/starter/expected-failures.txt
status=0
"$labgrade" "$outputs" --list-failing > "$work/failures.txt" || status=$?
[ $status -le 1 ] || { echo "starter-check.sh: labgrade could not grade the outputs (exit $status)"; exit 1; }
if [ $update -eq 1 ]; then
  {
    echo "# The checks the untouched starter fails, each with the piece it needs (labgrade --list-failing)."
    echo "# Written by scripts/starter-check.sh <labgrade> --update only; CI compares against it."
    cat "$work/failures.txt"
  } > "$expected"
  echo "starter-check.sh: wrote $expected ($(grep -vc '^#' "$expected") failing checks)"
  exit 0
fi
if ! diff -u <(grep -v '^#' "$expected") "$work/failures.txt"; then
  echo "starter-check.sh: the untouched starter fails other checks than $expected lists (diff above)."
  echo "If a piece or a check changed on purpose: scripts/starter-check.sh <labgrade> --update"
  exit 1
fi
echo "starter-check.sh: the untouched starter fails exactly the $(wc -l < "$work/failures.txt") listed checks"

# A student fills in LayerNorm (here: the solution's file): fewer checks fail, none for LayerNorm.
build_labs() {
  cmake --build "$work/build" --target labs >/dev/null
}
cp src/minimodel/layer_norm.cpp "$work/student/minimodel/layer_norm.cpp"
build_labs
run_labs "$work/outputs-layer-norm" "the starter with LayerNorm filled in"
"$labgrade" "$work/outputs-layer-norm" --list-failing > "$work/failures-layer-norm.txt" || true
before=$(wc -l < "$work/failures.txt")
after=$(wc -l < "$work/failures-layer-norm.txt")
if [ "$after" -ge "$before" ] || grep -q "LayerNorm forward" "$work/failures-layer-norm.txt" ||
   [ -n "$(comm -13 <(sort "$work/failures.txt") <(sort "$work/failures-layer-norm.txt"))" ]; then
  echo "starter-check.sh: with LayerNorm filled in, $after checks fail (before: $before); want fewer, a subset, none for LayerNorm:"
  cat "$work/failures-layer-norm.txt"
  exit 1
fi
echo "starter-check.sh: with LayerNorm filled in, $after checks fail instead of $before"

# Every piece filled in: the starter build is then the solution, and every lab passes.
for file in $(grep -l "STARTER-BEGIN" src/minimodel/*.cpp src/minimodel/*.hpp); do
  cp "$file" "$work/student/minimodel/"
done
build_labs
run_labs "$work/outputs-complete" "the starter with every piece filled in"
"$labgrade" "$work/outputs-complete" --brief ||
  { echo "starter-check.sh: with every piece filled in, a lab still fails"; exit 1; }
echo "starter-check.sh: with every piece filled in, every lab passes"
