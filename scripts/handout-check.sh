#!/usr/bin/env bash
# CI's proof that a handout works (scripts/test.sh stage 2; docs/student-track.md), on the
# handout a student would get, without this repository:
#   1. scripts/handout.sh writes one into a scratch folder and verifies it (no marker, no line of
#      the solution's regions, no solution-only file, one commit); the verification must also
#      catch a solution line, a marker and a solution-only file planted into a copy;
#   2. a fresh clone of it runs its README's two commands (scripts/setup.sh, scripts/labs.sh):
#      the labs build with the handout's `release` preset, and every lab exits 1 (it runs, fails
#      the checks that need the missing pieces, names them), never another status;
#   3. its tests: every test passes except the `lab-output` ones (each lab's output against its
#      reference), which fail until the pieces are written;
#   4. its `asan` preset: every lab exits 1 there too, with no AddressSanitizer or UBSan report;
#   5. code as a student writes it (tests/starter/student_style.cpp, `mean /= d` with a
#      std::size_t d) added to src/minimodel/layer_norm.cpp builds, the warning shown;
#   6. the solution's pieces put back (this tree's marked files copied over src/minimodel/):
#      every lab exits 0, in both presets, and every test passes.
# It prints the time of the clone's first build and of the rebuild after one edited piece.
#
#   scripts/handout-check.sh
# HANDOUT_CHECK_DIR=<dir> keeps the scratch folder there (default: a temporary folder, removed).
set -euo pipefail
work="${HANDOUT_CHECK_DIR:+$(realpath -m "$HANDOUT_CHECK_DIR")}"   # relative to where it was typed
cd "$(dirname "$0")/.."

if [ -n "$work" ]; then
  case "$PWD/" in "$work/"*) echo "handout-check.sh: HANDOUT_CHECK_DIR=$work holds this repository" >&2; exit 2 ;; esac
  rm -rf "$work"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
work="$(cd "$work" && pwd)"
fail() { echo "handout-check.sh: $*"; exit 1; }
mapfile -t labs < labs/labs.txt   # the list of the labs
labs=("${labs[@]/#/lab}")          # 00-block-by-hand -> lab00-block-by-hand

# 1. The handout, verified; and the verification, tried on a copy with a planted leak.
scripts/handout.sh "$work/handout"
planted="$work/planted"
cp -a "$work/handout" "$planted"
# The longest code line of the LayerNorm piece.
solution_line="$(awk '/STARTER-BEGIN/ { inside = 1; next } /STARTER-END/ { inside = 0 }
                      inside && !/^[ \t]*\/\// && length($0) > length(longest) { longest = $0 }
                      END { print longest }' src/minimodel/layer_norm.cpp)"
[ -n "$solution_line" ] || fail "found no solution line to plant in src/minimodel/layer_norm.cpp"
printf '%s\n%s\n' "// STARTER-BEGIN planted" "$solution_line" >> "$planted/theory/README.md"
# And a file the handout leaves out (scripts/handout.sh's solution_only): the vectorised LayerNorm.
cp src/minimodel/kernels/pieces_simd_impl.hpp "$planted/src/minimodel/kernels/"
status=0
scripts/handout.sh --verify "$planted" > "$work/planted.txt" || status=$?
if [ $status -ne 1 ] || ! grep -q "^theory/README.md:[0-9]*:.*STARTER-BEGIN planted" "$work/planted.txt" ||
   ! grep -q "^theory/README.md:[0-9]*: " "$work/planted.txt" ||
   ! grep -q "holds lines of the solution's regions" "$work/planted.txt" ||
   ! grep -q "^src/minimodel/kernels/pieces_simd_impl.hpp$" "$work/planted.txt"; then
  cat "$work/planted.txt"
  fail "scripts/handout.sh --verify did not name the marker and the solution line planted into theory/README.md, or the planted src/minimodel/kernels/pieces_simd_impl.hpp (exit $status)"
fi
echo "handout-check.sh: --verify names a planted marker, a planted solution line and a planted solution-only file"

# 2. A fresh clone, and the README's two commands.
clone="$work/clone"
git clone -q "$work/handout" "$clone"
for command in scripts/setup.sh scripts/labs.sh; do
  grep -q "^$command " "$clone/README.md" || fail "the handout's README does not give the command $command"
done
started=$EPOCHREALTIME
status=0
(cd "$clone" && scripts/setup.sh && scripts/labs.sh) > "$work/labs.txt" 2>&1 || status=$?
first_build=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
[ $status -eq 1 ] || { tail -n 30 "$work/labs.txt"; fail "scripts/labs.sh on the untouched handout exited $status, not 1"; }
echo "handout-check.sh: the README's commands built and ran the labs in ${first_build} s (the labs' runs included), exit 1"

# run_labs <bin> <want> <what>: every lab, each must exit <want>, with no sanitizer report.
run_labs() {
  local bin="$1" want="$2" what="$3" lab status
  for lab in "${labs[@]}"; do
    status=0
    "$bin/$lab" > "$work/$lab.txt" 2> "$work/$lab.stderr" || status=$?
    if [ $status -ne "$want" ] || grep -q "Sanitizer\|runtime error" "$work/$lab.stderr"; then
      tail -n 20 "$work/$lab.txt"
      cat "$work/$lab.stderr"
      fail "$lab exited $status on $what (want $want, and no sanitizer report)"
    fi
  done
  echo "handout-check.sh: every lab exits $want on $what"
}
run_labs "$clone/build/bin" 1 "the untouched handout"
grep -q "not implemented yet, start with: " "$work/${labs[0]}.txt" ||
  fail "${labs[0]} on the untouched handout does not say which piece to start with"

# 3. The tests: all but the lab-output ones pass before any piece is written; those fail.
(cd "$clone" && cmake --build --preset tests > "$work/tests-build.txt") ||
  { tail -n 30 "$work/tests-build.txt"; fail "the handout's tests do not build"; }
(cd "$clone" && ctest --preset release --parallel "$(nproc)" -LE lab-output > "$work/ctest.txt") ||
  { cat "$work/ctest.txt"; fail "on the untouched handout, a test outside lab-output fails"; }
status=0
(cd "$clone" && ctest --preset release --parallel "$(nproc)" -L lab-output > "$work/ctest-lab-output.txt" 2>&1) ||
  status=$?
[ $status -ne 0 ] && grep -q "^0% tests passed" "$work/ctest-lab-output.txt" ||
  { cat "$work/ctest-lab-output.txt"; fail "on the untouched handout, a lab-output test passes"; }
echo "handout-check.sh: on the untouched handout every test passes but the lab-output ones, which all fail"

# 4. The asan preset: the labs run clean under the sanitizers.
(cd "$clone" && cmake --preset asan > /dev/null && cmake --build --preset asan > "$work/asan-build.txt") ||
  { tail -n 30 "$work/asan-build.txt"; fail "the handout's asan preset does not build"; }
run_labs "$clone/build-asan/bin" 1 "the untouched handout, ASan + UBSan"

# 5. Student code with a warning builds; the rebuild after one edited piece is timed.
cat tests/starter/student_style.cpp >> "$clone/src/minimodel/layer_norm.cpp"
started=$EPOCHREALTIME
(cd "$clone" && cmake --build --preset release > "$work/student-style.txt" 2>&1) ||
  { cat "$work/student-style.txt"; fail "the handout does not build with student code that warns"; }
rebuild=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
grep -q "layer_norm.cpp:.*warning: .*\[-Wconversion\]" "$work/student-style.txt" ||
  { cat "$work/student-style.txt"; fail "the build did not show the -Wconversion warning of the student's code"; }
echo "handout-check.sh: student code with a -Wconversion warning builds, the warning shown; rebuilt in ${rebuild} s"
git -C "$clone" checkout -q -- src/minimodel/layer_norm.cpp

# 6. The solution's pieces put back: every lab passes, every test passes.
for file in $(grep -l "STARTER-BEGIN" src/minimodel/*.cpp src/minimodel/*.hpp); do
  cp "$file" "$clone/src/minimodel/"
done
(cd "$clone" && cmake --build --preset tests > "$work/solution-build.txt" &&
   cmake --build --preset asan >> "$work/solution-build.txt") ||
  { tail -n 30 "$work/solution-build.txt"; fail "the handout does not build with the solution's pieces"; }
run_labs "$clone/build/bin" 0 "the handout with the solution's pieces"
run_labs "$clone/build-asan/bin" 0 "the handout with the solution's pieces, ASan + UBSan"
(cd "$clone" && ctest --preset release --parallel "$(nproc)" > "$work/ctest-solution.txt") ||
  { cat "$work/ctest-solution.txt"; fail "with the solution's pieces, a test of the handout fails"; }
echo "handout-check.sh: with the solution's pieces every lab and every test of the handout passes"
