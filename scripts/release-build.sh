# Sourced, not run, by the scripts that regenerate what the labs produce (regen-expected.sh,
# regen-diagrams.sh): from the repository's root, configures and builds the release preset and
# reads the list of the labs, labs/labs.txt, into the array lab_folders (01-assemble-mini-gpt,
# ...; the binary of each is build/bin/lab<folder>).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cmake --preset release >/dev/null
cmake --build --preset release
mapfile -t lab_folders < labs/labs.txt
