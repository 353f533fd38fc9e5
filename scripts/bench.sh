#!/usr/bin/env bash
# Builds the benchmarks (Release, default flags) and runs them: the forward at the locked
# config (T = 8, 32) and at the GPT-2-small shape (T = 128, 1024), each beside a plain sgemm
# of the model's largest products measured in the same run, on 1 and 2 OpenBLAS threads;
# then the peak resident memory of the large forward. Extra arguments go to Google
# Benchmark, e.g. scripts/bench.sh --benchmark_filter=locked
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset bench >/dev/null
cmake --build --preset bench
build-bench/bin/minimodel_bench "$@"
echo
build-bench/bin/minimodel_peak_memory
