#!/usr/bin/env bash
# Regenerates every diagram in diagrams/: each lab that offers --svg draws its pictures there
# (lab 01: attention heatmaps and the shape trace; lab 02: the parameter bar; lab 03: the
# causality influence matrix). The block diagrams are Mermaid inside theory/01-transformer-block.md.
#
# The ctest diagrams.regenerate draws them again and compares them with the committed
# files, so after a change that moves a picture: run this, look at the pictures, commit them.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --preset release >/dev/null
cmake --build --preset release

for dir in labs/[0-9][0-9]-*/; do
  dir=${dir%/}
  binary="build/bin/lab${dir#labs/}"   # labs/01-assemble-mini-gpt -> lab01-assemble-mini-gpt
  if "$binary" --help | grep -q -- '--svg'; then
    "$binary" --svg diagrams >/dev/null  # a failing lab stops here (set -e): fix it first
  fi
done
git --no-pager diff --stat -- diagrams/ || true
