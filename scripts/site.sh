#!/usr/bin/env bash
# The workbook as a website: the README, the theory chapters, the labs (each with its output
# from the current build), the diagrams and the conventions, one page each, maths and
# Mermaid diagrams rendered by scripts the site serves itself (nothing is loaded from outside).
#
#   scripts/site.sh                 build the labs (preset release), then the site into build-site/site/
#   scripts/site.sh --serve [PORT]  the same, then serve it at http://127.0.0.1:PORT/ (8000)
#                                   for this machine only; Ctrl-C stops it
#   scripts/site.sh --check         the same build, then the browser check (site/check.py):
#                                   every page opened in headless Chromium, and the negative
#                                   controls (site/fixtures/) shown to fail, each for its reason
#                                   (what scripts/test.sh runs as its stage 5)
#
# The site also opens from disk: build-site/site/index.html. The pages in it and their order
# are set in site/mkdocs.yml (nav); docs/*.md, if present, are added as "For maintainers".
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
  ""|--serve|--check) ;;
  *) echo "usage: scripts/site.sh [--serve [PORT] | --check]" >&2; exit 2 ;;
esac

scripts/setup.sh
# Debian's python3 (mkdocs, selenium are its packages), whatever python3 comes first in PATH.
py=/usr/bin/python3

# The labs' pages show the labs' output of the current sources: build them (nothing to do when
# the build is up to date).
cmake --preset release >/dev/null
cmake --build --preset release -j2

started=$SECONDS
"$py" site/build.py . build-site
echo "site: build took $((SECONDS - started)) s; open build-site/site/index.html"

case "$mode" in
  --serve)
    port="${2:-8000}"
    echo "site: serving http://127.0.0.1:${port}/ (this machine only; Ctrl-C stops)"
    exec "$py" -m http.server --bind 127.0.0.1 --directory build-site/site "$port"
    ;;
  --check)
    started=$SECONDS
    "$py" site/build.py . build-site --fixtures >/dev/null
    "$py" site/check.py build-site --screenshots build-site/screenshots
    echo "site: browser check took $((SECONDS - started)) s"
    ;;
esac
