#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever the workbook needs and this machine lacks.
# Idempotent: a second run installs nothing. Uses sudo only when not already root.
set -euo pipefail

# One line per package: what it is for, so nobody has to guess why it is here.
packages=(
  g++                   # the compiler
  cmake                 # the build (presets need >= 3.21; Debian 12 has 3.25)
  ninja-build           # the generator the presets use
  xtensor-dev           # tensors for the model
  libxtensor-blas-dev   # xtensor's BLAS bindings (cblas prototypes)
  libopenblas-dev       # the BLAS the matrix products run on
  libfmt-dev            # fixed-precision, diff-friendly printing
  catch2                # the test framework (v2)
  libcli11-dev          # command lines of the labs
  nlohmann-json3-dev    # safetensors headers and --json output
  libdtl-dev            # labdiff's line alignment (dtl, the O(NP) diff; header-only)
  libbenchmark-dev      # benchmarks
  clang                 # the compiler of the fuzz preset (clang++ is clang 14 on Debian 12)
  libclang-rt-14-dev    # clang's runtimes: libFuzzer (-fsanitize=fuzzer) and ASan/UBSan for clang
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query says "install ok installed" only for a package that is fully installed.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: every dependency is already installed."
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi

echo "setup: installing from Debian's archive: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done."
