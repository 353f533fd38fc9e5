#!/usr/bin/env bash
# Measures a clean Release build (docs/build.md): the wall time of building everything the
# release preset builds (library, labs, tools, tests) from an empty folder, the CPU time each
# compile took (user + system, read by /usr/bin/time around every compiler call), and the
# files that took longest. Then the floor no build setting goes below: the CPU the compilers
# need to parse every file and instantiate its templates with no code generated at all
# (each compile again with -fsyntax-only, the precompiled headers in place). The machine
# should be otherwise idle: `uptime` is printed first.
#
#   scripts/measure-build.sh            one clean build, with -j$(nproc)
#   scripts/measure-build.sh 10         the same, listing the 10 slowest files (default 12)
set -euo pipefail
cd "$(dirname "$0")/.."
top="${1:-12}"
[[ "$top" =~ ^[0-9]+$ ]] || { echo "measure-build.sh: the argument is how many files to list, a number (got '$top')" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "measure-build.sh: needs /usr/bin/time (Debian package time)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A compiler launcher that appends "<cpu seconds> <object file>" for every compile.
cat > "$work/time-compile" <<'EOF'
#!/usr/bin/env bash
out=""; previous=""
for argument in "$@"; do [ "$previous" = "-o" ] && out="$argument"; previous="$argument"; done
exec /usr/bin/time -a -o "$MEASURE_BUILD_LOG" -f "%U %S $out" "$@"
EOF
chmod +x "$work/time-compile"
export MEASURE_BUILD_LOG="$work/compiles.log"

echo "measure-build.sh: $(uptime)"
cmake -S . -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_COMPILER_LAUNCHER="$work/time-compile" > /dev/null
start=$(date +%s%N)
cmake --build "$work/build" --parallel "$(nproc)" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
end=$(date +%s%N)
if grep -q "warning:" "$work/build.log"; then echo "measure-build.sh: the build printed warnings" >&2; exit 1; fi

awk -v wall="$(( (end - start) / 1000000 ))" -v cores="$(nproc)" -v top="$top" '
  { cpu = $1 + $2; total += cpu; n++; name = $3; sub(/^.*CMakeFiles\//, "", name); line[n] = sprintf("%7.1f s  %s", cpu, name) ; key[n] = cpu }
  END {
    printf "clean Release build: %.1f s on %d cores, %d compiles, %.0f s of CPU in the compilers\n", wall / 1000, cores, n, total
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (key[j] > key[i]) { t = key[i]; key[i] = key[j]; key[j] = t; s = line[i]; line[i] = line[j]; line[j] = s }
    printf "the %d slowest compiles (CPU):\n", top
    for (i = 1; i <= top && i <= n; i++) print line[i]
  }' "$MEASURE_BUILD_LOG"

# The front end alone: every compile of the build (not the precompiled headers) again with -fsyntax-only (after the build,
# so the precompiled headers exist), nproc at a time, its CPU summed as above.
export MEASURE_BUILD_LOG="$work/front-end.log"
python3 - "$work/build/compile_commands.json" "$work/time-compile" <<'PY'
import json, os, re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from os import cpu_count
# Only what the build compiled (its object file exists): not the targets it excludes.
commands = [(c["directory"], re.sub(r" -o \S+", " -o /dev/null", c["command"]) + " -fsyntax-only")
            for c in json.load(open(sys.argv[1]))
            if not c["file"].endswith(".hxx.cxx")
            and os.path.exists(os.path.join(c["directory"], re.search(r" -o (\S+)", c["command"]).group(1)))]
def run(entry):
    directory, command = entry
    subprocess.run(sys.argv[2] + " " + command, shell=True, cwd=directory, check=True)
with ThreadPoolExecutor(cpu_count()) as pool:
    list(pool.map(run, commands))
PY
awk '{ total += $1 + $2; n++ } END {
  printf "front end alone (-fsyntax-only, no code generated): %d files, %.0f s of CPU\n", n, total }' "$MEASURE_BUILD_LOG"
