#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build (Release), run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release --parallel "$(nproc)"
