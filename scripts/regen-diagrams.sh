#!/usr/bin/env bash
# Regenerates every diagram in diagrams/: each lab that offers --svg draws its pictures there
# (lab 01: attention heatmaps and the shape trace; lab 02: the parameter bar; lab 03: the
# causality influence matrix). The block diagrams are Mermaid inside theory/01-transformer-block.md.
#
# The ctest diagrams.regenerate draws them again and compares them with the committed
# files, so after a change that moves a picture: run this, look at the pictures, commit them.
source "$(dirname "$0")/release-build.sh"

for folder in "${lab_folders[@]}"; do
  binary="build/bin/lab${folder}"
  if "$binary" --help | grep -q -- '--svg'; then
    "$binary" --svg diagrams >/dev/null  # a failing lab stops here (set -e): fix it first
  fi
done
git --no-pager diff --stat -- diagrams/ || true
