#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build (Release), run the labs in order.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release

# Until the four labs land, a smoke forward of the locked model stands in for them.
echo
echo "=== Smoke forward: the locked Mini-GPT on '<bos> I work , you work , he' ==="
build/bin/smoke-forward
