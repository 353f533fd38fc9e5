#!/usr/bin/env bash
# The student's repository, without the solution (docs/student-track.md): what a course hands
# out. The instructor's repository (this one) keeps the solution.
#
#   scripts/handout.sh <dir>            writes the handout into <dir> (new or empty): a git
#                                       repository with one commit and nothing in its history
#   scripts/handout.sh --verify <dir>   checks a handout: no STARTER marker, no line of any
#                                       solution region of this tree, one commit (CI, and the
#                                       last step of writing one)
#
# What the handout holds, from this tree's files (tracked, plus untracked ones that are not
# ignored, as they are in the working tree):
#   - src/ with every marked file of src/minimodel (cmake/starter.cmake -DMODE=list) replaced by
#     its starter copy: the student edits src/minimodel/layer_norm.cpp etc. in place. The rest
#     of src/minimodel stays whole, src/minimodel/reference.cpp too: it is the oracle the labs
#     compare with;
#   - labs/ (programs, chapters, reference outputs), theory/, CONVENTIONS.md, diagrams/,
#     tools/labdiff/ (the labs' ctest diffs use it), cmake/ without starter.cmake,
#     scripts/setup.sh and scripts/labs.sh;
#   - the tests of what the student is given (see `kept_tests` below) and tests/CMakeLists.txt;
#   - written here: README.md (tools/handout/README.md, with the table of pieces filled in from
#     the markers), CMakePresets.json (tools/handout/CMakePresets.json), .gitignore, and
#     cmake/handout.cmake, which tells the build this tree is a handout and which files are the
#     student's (cmake/student.cmake compiles them with warnings that are not errors).
# Left out: the solution's regions and its vectorised copies of pieces (solution_only below);
# the tests of the pieces themselves and of the next chapter's backward (they fail on the
# stubs; the labs are the student's checks, with hints),
# tests/mistakes/ (solution lines), tests/starter/, tests/grade/, the instructor's and CI's
# scripts (grade.sh, starter-check.sh, mistakes.sh, handout*.sh, test.sh, regen-*.sh, ...),
# tools/gradcheck/, bench/, fuzz/, .ci/, and this repository's README.md, which is the
# instructor's.
set -euo pipefail
caller="$PWD"   # a relative <dir> is relative to where the command was typed
cd "$(dirname "$0")/.."
repo="$PWD"

usage() {
  echo "usage: scripts/handout.sh <dir>            write a handout into <dir>" >&2
  echo "       scripts/handout.sh --verify <dir>   check a handout" >&2
  exit 2
}
die() { echo "handout.sh: $*" >&2; exit 2; }

# The tests a student keeps: those of the code they are given and build on, which pass on the
# untouched starter and after: the configuration, the random generator, the vocabulary and the
# double reference the labs compare with. Left out, besides the tests of the pieces: the weights
# files' tests, the labs' command-line tests and the bad-input battery, because most of their
# cases build or run the model and so need the pieces (saving a model counts its parameters in
# closed form, a lab's --json needs its run). The labs' own ctest entries stay (labs/
# CMakeLists.txt): the `lab-output` diffs of each lab against its reference, which pass once the
# pieces are right.
kept_tests=(
  tests/CMakeLists.txt
  tests/test_config.cpp tests/test_random.cpp tests/test_vocab.cpp tests/test_reference.cpp
)

# Files of src/ a handout leaves out: the vectorised copies of the student pieces GELU and
# LayerNorm (src/minimodel/kernels/pieces_simd.hpp), a working solution the student could call
# or copy from. The handout's build defines MINIMODEL_SCALAR_PIECES (cmake/student.cmake), under
# which no file names them, and src/minimodel/CMakeLists.txt lists them only where they exist.
# A glob on the path from the tree's root; --verify checks that no such file is in a handout.
solution_only='src/minimodel/kernels/pieces_simd*'

# in_handout PATH: whether a file of this tree goes into the handout (before the marked files
# are replaced by their starter copies).
in_handout() {
  # shellcheck disable=SC2254
  case "$1" in $solution_only) return 1 ;; esac
  case "$1" in
    src/*|labs/*|theory/*|diagrams/*|tools/labdiff/*|CONVENTIONS.md|CMakeLists.txt) return 0 ;;
    cmake/starter.cmake) return 1 ;;
    cmake/*) return 0 ;;
    scripts/setup.sh|scripts/labs.sh) return 0 ;;
  esac
  local kept
  for kept in "${kept_tests[@]}"; do
    [ "$1" = "$kept" ] && return 0
  done
  return 1
}

# solution_lines: every line of every solution region of this tree (the lines between a
# STARTER-BEGIN and its STARTER-END, less the "// |" description lines right under the marker,
# which the starter copy keeps on purpose), whitespace collapsed, one per line; lines shorter
# than 12 characters ("}", "} else {", "if (!rms) {") say nothing of the solution and are left out.
solution_lines() {
  local marked
  marked=$(grep -l "STARTER-BEGIN" src/minimodel/*.cpp src/minimodel/*.hpp)
  # shellcheck disable=SC2086
  awk '/STARTER-BEGIN/ { inside = 1; head = 1; next }
       /STARTER-END/   { inside = 0; next }
       inside {
         if (head && $0 ~ /^[ \t]*\/\/ \|/) next
         head = 0
         line = $0; gsub(/[ \t]+/, " ", line); sub(/^ /, "", line); sub(/ $/, "", line)
         if (length(line) >= 12) print line
       }' $marked | sort -u
}

# verify <dir>: the checks of a handout; prints what it finds and returns 1 on any problem.
verify() {
  local dir="$1" problems=0 lines found commits
  [ -d "$dir/.git" ] || { echo "handout.sh: $dir is not a git repository"; return 1; }
  # 1. No marker: the handout has no solution to strip.
  if found=$(git -C "$dir" grep -n -I -e "STARTER-BEGIN" -e "STARTER-END"); then
    echo "handout.sh: $dir holds STARTER markers:"
    echo "$found"
    problems=1
  fi
  # 2. No line of a solution region, in any file of the handout (whitespace-insensitive, and
  #    as part of a longer line too: a chapter quoting it in backticks counts).
  lines="$(mktemp)"
  solution_lines > "$lines"
  [ -s "$lines" ] || { echo "handout.sh: found no solution region in $repo/src/minimodel"; rm -f "$lines"; return 1; }
  #    tools/handout/allowed-lines.txt names the few that may stay, and why.
  found=$(cd "$dir" && git ls-files -z | xargs -0 grep -I -l "" 2>/dev/null | while IFS= read -r file; do
            awk -v file="$file" -v patterns="$lines" -v allowances="$repo/tools/handout/allowed-lines.txt" '
              BEGIN {
                while ((getline p < patterns) > 0) pattern[++n] = p
                while ((getline a < allowances) > 0) {
                  if (a ~ /^#/ || a !~ /: /) continue
                  where = substr(a, 1, index(a, ": ") - 1); what = substr(a, index(a, ": ") + 2)
                  gsub(/[ \t]+/, " ", what); allowed[where SUBSEP what] = 1
                }
              }
              { line = $0; gsub(/[ \t]+/, " ", line)
                for (i = 1; i <= n; i++)
                  if (index(line, pattern[i]) && !((file SUBSEP pattern[i]) in allowed) && !(("*" SUBSEP pattern[i]) in allowed))
                    printf "%s:%d: %s\n", file, FNR, pattern[i] }' "$file"
          done)
  rm -f "$lines"
  if [ -n "$found" ]; then
    echo "handout.sh: $dir holds lines of the solution's regions (file:line: the solution's line):"
    echo "$found"
    problems=1
  fi
  # 3. None of the solution's own files (solution_only above).
  found=$(cd "$dir" && find . -path ./.git -prune -o -path "./$solution_only" -print | sed 's|^\./||')
  if [ -n "$found" ]; then
    echo "handout.sh: $dir holds files a handout leaves out (the solution's vectorised pieces):"
    echo "$found"
    problems=1
  fi
  # 4. One commit, so no history holds what the handout does not.
  commits=$(git -C "$dir" rev-list --all --count 2>/dev/null || echo 0)
  if [ "$commits" != 1 ]; then
    echo "handout.sh: $dir has $commits commits; a handout has exactly one"
    problems=1
  fi
  # 5. The working tree is that commit.
  if [ -n "$(git -C "$dir" status --porcelain)" ]; then
    echo "handout.sh: $dir has changes outside its commit:"
    git -C "$dir" status --short
    problems=1
  fi
  [ $problems -eq 0 ] && echo "handout.sh: $dir: no marker, no line of the solution's regions, no solution-only file, one commit"
  return $problems
}

[ $# -ge 1 ] || usage
if [ "$1" = "--verify" ]; then
  [ $# -eq 2 ] || usage
  dir="$(cd "$caller" && realpath -m "$2")"
  [ -d "$dir" ] || die "'$2' is not a folder"
  verify "$dir" && exit 0 || exit 1
fi
[ $# -eq 1 ] || usage
case "$1" in -*) usage ;; esac
out="$(cd "$caller" && realpath -m "$1")"
if [ -e "$out" ]; then
  [ -d "$out" ] || die "'$out' exists and is not a folder"
  [ -z "$(ls -A "$out")" ] || die "'$out' is not empty; give a new or empty folder"
fi
case "$out/" in "$repo/"*) die "'$out' is inside this repository; write the handout elsewhere" ;; esac
mkdir -p "$out"
git rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git repository (the handout takes its tracked files)"

# 1. The files, as in the working tree.
count=0
while IFS= read -r -d '' file; do
  [ -f "$file" ] || continue          # deleted in the working tree
  in_handout "$file" || continue
  mkdir -p "$out/$(dirname "$file")"
  cp -p "$file" "$out/$file"
  count=$((count + 1))
done < <(git ls-files -z --cached --others --exclude-standard)

# 2. The starter copies over the marked files, with a header for the handout: the copies'
#    own first comment lines speak of the instructor's starter build.
copies="$(mktemp -d)"
trap 'rm -rf "$copies"' EXIT
cmake -DMODE=generate -DSOURCE_DIR="$repo" -DOUT_DIR="$copies" -P cmake/starter.cmake >/dev/null
student_files=()
for copy in "$copies"/minimodel/*; do
  name="$(basename "$copy")"
  student_files+=("$name")
  {
    echo "// YOUR file: fill in every TODO(student), in the order of the README's table. To start"
    echo "// it over: git checkout handout -- src/minimodel/$name"
    awk 'started || !/^\/\/ / { started = 1; print }' "$copy"
  } > "$out/src/minimodel/$name"
done
[ ${#student_files[@]} -gt 0 ] || die "cmake/starter.cmake wrote no starter copy"

# 3. What this script writes.
cat > "$out/cmake/handout.cmake" <<EOF
# Written by scripts/handout.sh: this tree is a handout, the student's repository. It has no
# solution: the files below are the student's (in src/minimodel/), each piece a TODO(student).
# cmake/student.cmake compiles them with warnings shown but not fatal, one by one, and the rest
# of the library once.
set(MINIMODEL_HANDOUT ON)
set(MINIMODEL_STUDENT_FILES ${student_files[*]})
EOF
printf '/build/\n/build-*/\n' > "$out/.gitignore"
cp tools/handout/CMakePresets.json "$out/CMakePresets.json"
# The table of pieces, in the order of their numbers, from the markers.
pieces="$(mktemp)"
cmake -DMODE=list -DSOURCE_DIR="$repo" -P cmake/starter.cmake 2>&1 |
  sed -n 's/^-- src\/minimodel\/\([^:]*\): \(.*\)$/\1|\2/p' |
  awk -F'|' '{ what = $2; gsub(/<semicolon>/, ";", what); section = $4; gsub(/<semicolon>/, ";", section)
               number = what; sub(/ .*/, "", number)
               printf "%s\t| %s | `src/minimodel/%s` | [%s § %s](%s) |\n", number, what, $1, $3, section, $3 }' |
  sort -n | cut -f2- > "$pieces"
[ -s "$pieces" ] || die "cmake/starter.cmake -DMODE=list named no piece"
# A line "@README:<heading>@" of the template is that section of this repository's README.md,
# up to its next heading: the reading order and the labs' table are the same for the student.
awk -v pieces="$pieces" '
  FNR == NR { text[FNR] = $0; lines = FNR; next }
  /^@PIECES@$/ { while ((getline row < pieces) > 0) print row; next }
  /^@README:.*@$/ {
    heading = substr($0, 9, length($0) - 9); from = 0
    for (i = 1; i <= lines; i++) if (text[i] ~ /^#+ / && substr(text[i], index(text[i], " ") + 1) == heading) from = i + 1
    if (!from) { print "handout.sh: README.md has no section \"" heading "\"" > "/dev/stderr"; failed = 1; exit 1 }
    to = from; while (to <= lines && text[to] !~ /^#/) to++
    while (from < to && text[from] == "") from++
    while (to > from && text[to - 1] == "") to--
    for (i = from; i < to; i++) print text[i]
    next
  }
  { print }' README.md tools/handout/README.md > "$out/README.md" ||
  die "could not fill in tools/handout/README.md"
rm -f "$pieces"

# 4. One commit.
source_commit="$(git rev-parse --short HEAD)"
[ -z "$(git status --porcelain --untracked-files=no)" ] || source_commit="$source_commit plus uncommitted changes"
git -C "$out" init -q --initial-branch=main
git -C "$out" add -A
git -C "$out" -c user.name="$(git config user.name || echo "Mini-GPT workbook")" \
    -c user.email="$(git config user.email || echo "workbook@localhost")" \
    commit -q -m "Mini-GPT workbook: the student's repository" \
    -m "Written by scripts/handout.sh from the instructor's repository at $source_commit."
# The untouched handout by name, for `git checkout handout -- <file>` and `git diff handout`.
git -C "$out" tag handout
echo "handout.sh: wrote $out ($((count + 4)) files; your files: ${student_files[*]})"
verify "$out" || { echo "handout.sh: the handout in $out is not fit to hand out (above)" >&2; exit 1; }
