#!/usr/bin/env bash
# Builds the benchmarks (Release, default flags) and runs them: the forward at the locked
# config (T = 8, 32) and at the GPT-2-small shape (T = 128, 1024), each beside a plain sgemm
# of the model's largest products measured in the same run, on 1 and 2 OpenBLAS threads;
# then the peak resident memory of the large forward. Extra arguments go to Google
# Benchmark, e.g. scripts/bench.sh --benchmark_filter=locked
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# The NumPy comparison runs Debian's python3 (python3-numpy), whatever python3 comes first on PATH.
export MINIMODEL_PYTHON=${MINIMODEL_PYTHON:-/usr/bin/python3}
# OpenMP threads (attention's heads, GELU and LayerNorm at the GPT-2 sizes) sleep between their
# parallel regions instead of spinning: a spinning OpenMP thread holds a core that OpenBLAS's
# thread needs for the next product. Measured at the GPT-2 shape, T = 128, 2 threads, the two
# settings alternated in one session: 984 and 990 ms per forward spinning (libgomp's default),
# 389 and 517 ms with PASSIVE. Set before the program starts: libgomp reads it when it loads.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# The converse: OpenBLAS's own threads, after a product, spin calling sched_yield for 2^28 cycles
# (about 0.1 s) before they sleep, and meanwhile compete with the OpenMP threads that run the
# attention's heads, GELU and LayerNorm. 4 makes them sleep after 2^4 cycles. GPT-2 shape,
# T = 1024, 2 threads, quiet machine (docs/performance.md): share of the same run's sgemm 80.0
# and 86.2 % with OpenBLAS's default, 93.7 to 94.8 % with 4, the sgemm itself alike. Read by
# OpenBLAS when it loads; NumPy gets it too.
export OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4}
cmake --preset bench >/dev/null
cmake --build --preset bench
build-bench/bin/minimodel_bench "$@"
echo
build-bench/bin/minimodel_peak_memory
