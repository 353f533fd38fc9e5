#!/usr/bin/env bash
# Fuzzes what reads untrusted input with libFuzzer (clang, ASan + UBSan): the weights loader,
# the tokenizer, and labdiff's and labgrade's readers of a student's lab output.
#
#   scripts/fuzz.sh              each target for 60 seconds
#   scripts/fuzz.sh 3600         each target for an hour
#   scripts/fuzz.sh 600 fuzz_tokenizer
#   scripts/fuzz.sh --make-corpus   rewrite the weights files of fuzz/corpus/weights_loader/
#
# Each target starts from its committed seeds in fuzz/corpus/<target minus "fuzz_">/ and keeps
# what it learns in build-fuzz/corpus/<target>/ (not committed). A finding (crash, leak,
# undefined behaviour, an exception other than the documented one) is written to
# build-fuzz/findings/<target>/ and the script exits non-zero. To keep a finding as a
# regression input: fix the bug, then copy the file into fuzz/corpus/<...>/ and commit it.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --preset fuzz >/dev/null

if [ "${1:-}" = "--make-corpus" ]; then
  cmake --build build-fuzz --target fuzz_make_corpus
  build-fuzz/bin/fuzz_make_corpus fuzz/corpus/weights_loader
  exit 0
fi

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_weights_loader fuzz_tokenizer fuzz_labdiff fuzz_labgrade)
cmake --build --preset fuzz

status=0
for target in "${targets[@]}"; do
  seeds="fuzz/corpus/${target#fuzz_}"
  work="build-fuzz/corpus/${target}"
  findings="build-fuzz/findings/${target}"
  mkdir -p "$work" "$findings"
  echo "fuzz: ${target} for ${seconds} s (seeds ${seeds}/, findings go to ${findings}/)"
  # -timeout: one input taking more than 10 s is a finding too (a hang).
  # The sanitizers' options are compiled in (cmake/sanitizer_options.cmake).
  if ! "build-fuzz/bin/${target}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="${findings}/" "$work" "$seeds" \
         > "build-fuzz/${target}.log" 2>&1; then
    echo "fuzz: ${target} FOUND A PROBLEM; the input is in ${findings}/, the report in build-fuzz/${target}.log:"
    grep -E "ERROR|SUMMARY|runtime error|terminate|Test unit written" "build-fuzz/${target}.log" | head -20
    status=1
  else
    runs=$(grep -m1 -oE "stat::number_of_executed_units: *[0-9]+" "build-fuzz/${target}.log" | grep -oE "[0-9]+$" || echo "?")
    echo "fuzz: ${target}: nothing found in ${runs} inputs"
  fi
done
exit $status
