#!/usr/bin/env bash
# The README's quick start (here and in a handout): install what is missing, build (preset
# release), run the labs of labs/labs.txt in order, each under a header naming its chapter. Exits
# non-zero if any lab's checks fail.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release

status=0
mapfile -t folders < labs/labs.txt   # the list of the labs, in order
for folder in "${folders[@]}"; do
  dir="labs/${folder}"
  lab="lab${folder}"      # 01-assemble-mini-gpt -> lab01-assemble-mini-gpt
  echo
  echo "################################################################################"
  echo "# ${lab} — read ${dir}/README.md alongside"
  echo "################################################################################"
  echo
  "build/bin/${lab}" || status=1
done
exit $status
