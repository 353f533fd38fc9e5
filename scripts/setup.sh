#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever the workbook needs and this machine lacks, and the
# site's npm packages (Mermaid). Idempotent: a second run installs nothing. Uses sudo only when
# not already root.
set -euo pipefail
cd "$(dirname "$0")/.."

# One line per package: what it is for, so nobody has to guess why it is here.
packages=(
  g++                   # the compiler
  cmake                 # the build (presets need >= 3.21; Debian 12 has 3.25)
  ninja-build           # the generator the presets use
  xtensor-dev           # tensors for the model
  libxtensor-blas-dev   # xtensor's BLAS bindings (cblas prototypes)
  libopenblas-dev       # the BLAS the matrix products run on
  libxsimd-dev          # SIMD (xtensor's): the vectorised exp and erfc of softmax and GELU
  libxsmm-dev           # small matrix products generated for the CPU at run time (attention's)
  pkg-config            # how CMake finds libxsmm
  libfmt-dev            # fixed-precision, diff-friendly printing
  catch2                # the test framework (v2)
  libcli11-dev          # command lines of the labs
  nlohmann-json3-dev    # safetensors headers and --json output
  libdtl-dev            # labdiff's line alignment (dtl, the O(NP) diff; header-only)
  libbenchmark-dev      # benchmarks
  python3-numpy         # the NumPy forward the benchmarks compare with (bench/numpy_forward.py)
  clang                 # the compiler of the fuzz preset (clang++ is clang 14 on Debian 12)
  libclang-rt-14-dev    # clang's runtimes: libFuzzer (-fsanitize=fuzzer) and ASan/UBSan for clang
  libomp-14-dev         # OpenMP for clang (the fuzz preset builds the library, which uses OpenMP)
)
# The site (scripts/site.sh, site/) and its browser check; only where site/ is (a handout,
# scripts/handout.sh, has no site/ and does not need a browser).
if [ -d site ]; then packages+=(
  mkdocs                # the site (scripts/site.sh): builds the chapters into web pages
  mkdocs-material       # the site's theme
  python3-pymdownx      # the site's markdown extensions: diagrams and maths blocks, highlighting
  libjs-katex           # the site's maths, served by the site itself
  chromium              # the site's browser check (site/check.py), headless
  chromium-driver       # WebDriver for that Chromium
  python3-selenium      # the browser check's WebDriver client
  fonts-noto-color-emoji  # the 🇪🇸 of each summary in the browser check's screenshots (else two boxes)
  npm                   # installs Mermaid (site/package-lock.json) for the site's diagrams
); fi

missing=()
for p in "${packages[@]}"; do
  # An npm already on PATH (one that came with another Node.js) serves as well as Debian's.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  # dpkg-query says "install ok installed" only for a package that is fully installed.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: every dependency is already installed."
else
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
fi

# The site's Mermaid, from the npm registry at the versions site/package-lock.json pins, into
# build-site/npm/ (ignored by git). Done again only when the lock file changes.
npm_dir=build-site/npm
if [ -d site ] && { ! cmp -s site/package-lock.json "$npm_dir/package-lock.json" ||
                   [ ! -f "$npm_dir/node_modules/mermaid/dist/mermaid.min.js" ]; }; then
  echo "setup: installing the site's npm packages (site/package-lock.json) into $npm_dir"
  rm -rf "$npm_dir"
  mkdir -p "$npm_dir"
  cp site/package.json site/package-lock.json "$npm_dir/"
  (cd "$npm_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
