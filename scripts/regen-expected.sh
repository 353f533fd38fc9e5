#!/usr/bin/env bash
# Regenerates every lab's reference output (labs/*/expected.txt) and the output excerpts
# embedded in the lab chapters, from the labs' default runs. The only thing that writes them.
#
# Reference outputs change only on purpose: after running this, read `git diff labs/` and say
# in the commit why the numbers moved.
source "$(dirname "$0")/release-build.sh"

for folder in "${lab_folders[@]}"; do
  dir="labs/${folder}"
  "build/bin/lab${folder}" > "$dir/expected.txt"  # a failing lab stops here (set -e): fix it first
  build/bin/labdiff --update-chapter "$dir/README.md" "$dir/expected.txt"
  echo "regenerated $dir/expected.txt and the excerpts in $dir/README.md"
done
git --no-pager diff --stat -- labs/ || true
