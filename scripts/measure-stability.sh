#!/usr/bin/env bash
# Measures how far the labs' printed decimals move from their reference outputs when OpenBLAS
# picks another kernel (OPENBLAS_CORETYPE) or another thread count (OPENBLAS_NUM_THREADS).
# The figures in README.md, "Stable outputs: what the tolerance absorbs", come from this.
#
#   scripts/measure-stability.sh [build-dir]     (default: build, the release preset)
#
# For every run it prints the largest |actual − expected| over the decimals of the output and
# labdiff's verdict. Coretypes the CPU cannot execute are skipped by OpenBLAS itself (it falls
# back to the detected one), so results on a CPU without AVX2 say less about Haswell.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin

# The largest difference between decimals at the same place (line, field) of two outputs.
max_decimal_diff() {
  awk '
    function isdec(s) { return s ~ /^[-+]?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$/ || s ~ /^[-+]?[0-9]+[eE][-+]?[0-9]+$/ }
    function abs(x) { return x < 0 ? -x : x }
    NR == FNR { expected[FNR] = $0; next }
    {
      n = split(expected[FNR], e, /[][ (),;:=|]+/); m = split($0, a, /[][ (),;:=|]+/)
      if (n != m) next
      for (i = 1; i <= n; i++) if (isdec(e[i]) && isdec(a[i])) {
        total++
        if (a[i] != e[i]) moved++
        if (abs(a[i] - e[i]) > worst) worst = abs(a[i] - e[i])
      }
    }
    END { printf "%.1e  %4d of %5d", worst + 0, moved, total }' "$1" "$2"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf "%-30s %-12s %-8s %-26s %s\n" lab coretype threads "max |diff|  decimals moved" labdiff
mapfile -t lab_folders < labs/labs.txt   # the list of the labs
for folder in "${lab_folders[@]}"; do
  dir="labs/${folder}"
  lab="lab${folder}"
  for core in default Haswell SandyBridge Nehalem Prescott; do
    for threads in 1 2; do
      if [ "$core" = default ]; then unset OPENBLAS_CORETYPE; else export OPENBLAS_CORETYPE=$core; fi
      OPENBLAS_NUM_THREADS=$threads "$bin/$lab" > "$out/run.txt" || true
      verdict=$("$bin/labdiff" "$dir/expected.txt" "$out/run.txt" >/dev/null && echo match || echo DIFFERS)
      printf "%-30s %-12s %-8s %-26s %s\n" "$lab" "$core" "$threads" \
        "$(max_decimal_diff "$dir/expected.txt" "$out/run.txt")" "$verdict"
    done
  done
done
