#!/usr/bin/env bash
# Quick start, command 2, and what CI runs: install what is missing, then
#   1. Release: build, run the whole test suite (the bad-input battery and the lab reference
#      diffs with OpenBLAS on 1 and 2 threads included);
#   2. the student track, both ends (docs/student-track.md, docs/grading.md): the solution's
#      lab outputs graded by labgrade (every check passes), then the untouched starter built
#      fresh with ASan + UBSan, every lab run on it (no crash, no sanitizer report) and the
#      checks it fails compared with tests/starter/expected-failures.txt; then a handout (the
#      student's repository, scripts/handout.sh) written, verified free of the solution, built
#      from a fresh clone as its README says, its labs run on the untouched starter (exit 1, no
#      crash, no sanitizer report) and with the solution's pieces put back (exit 0), its tests
#      run (scripts/handout-check.sh); then grading as an instructor does it
#      (tests/grade/class-test.sh): a class of four submissions, a submission that edits a lab
#      and one that prints the reference output; then the mistake catalogue (tests/mistakes/): each
#      plausible mistake is named by the first failing check of the first failing lab, and
#      every check of every lab fails under one of them;
#   3. AddressSanitizer + UndefinedBehaviorSanitizer (a Debug build, so also the -O0 check of
#      the reference outputs): the whole test suite again, then every lab on its own; any
#      sanitizer report fails;
#   4. libFuzzer: each fuzz target for ${FUZZ_SECONDS:-30} seconds from its seed corpus;
#   5. the site (scripts/site.sh --check): the chapters built into web pages, each lab's page
#      with that lab's output from this build, then every page opened in headless Chromium: no
#      console error, every Mermaid diagram an SVG, every formula rendered, every image loaded,
#      every link into the site and its anchor landing, nothing loaded from outside; and the
#      negative controls (site/fixtures/: a broken diagram, a dead link, a missing image, a bad
#      formula, a throwing script, a web font), each failing for its own reason (about 30 s).
# Stops at the first stage that fails.
#
#   scripts/test.sh           all five stages (about 11 minutes on 2 cores, from scratch)
#   scripts/test.sh --quick   stage 1 only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

stage() { echo; echo "=== test.sh: $* ==="; }
started=$SECONDS

scripts/setup.sh

stage "1/5 Release build and test suite"
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release --parallel "$(nproc)"
[ $quick -eq 1 ] && exit 0

stage "2/5 student track: the solution graded, the untouched starter and a handout run, the mistakes named"
mkdir -p build/lab-output/graded
mapfile -t lab_folders < labs/labs.txt   # the list of the labs
for name in "${lab_folders[@]}"; do
  "build/bin/lab${name}" > "build/lab-output/graded/lab${name%%-*}.txt"
done
build/bin/labgrade build/lab-output/graded --brief --json build/lab-output/graded/verdicts.json
scripts/starter-check.sh build/bin/labgrade
scripts/handout-check.sh
tests/grade/class-test.sh build
scripts/mistakes.sh --require-coverage

stage "3/5 ASan + UBSan build, test suite and labs"
cmake --preset asan >/dev/null
cmake --build --preset asan
# The sanitizers' options are compiled into every program (cmake/sanitizer_options.cmake).
ctest --preset asan --parallel "$(nproc)"
for folder in "${lab_folders[@]}"; do
  dir="labs/${folder}"
  lab="lab${folder}"
  out="build-asan/lab-output/${lab}.direct.txt"
  mkdir -p build-asan/lab-output
  "build-asan/bin/${lab}" > "$out" ||
    { echo "test.sh: ${lab} failed under ASan + UBSan (exit $?); its output is in $out"; exit 1; }
  build-asan/bin/labdiff "$dir/expected.txt" "$out"
  echo "test.sh: ${lab} ran clean under ASan + UBSan"
done

stage "4/5 fuzzing, ${FUZZ_SECONDS:-30} s per target"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

stage "5/5 the site, built and checked in headless Chromium"
scripts/site.sh --check

echo
echo "test.sh: all stages passed in $((SECONDS - started)) s"
