#!/usr/bin/env bash
# The grader end to end (docs/grading.md; issue 14, item 8): scripts/grade.sh on
# submissions made from the solution's own piece files, each edited as a student might.
#
#   1. A class of four, graded with one command (--class): correct, one mistake (LayerNorm's
#      variance divided by d - 1), one that does not compile, one whose lab 02 never ends. The
#      gradebook and the four feedback files must say exactly that: full marks; failing checks
#      naming ln1; the file and line of the compile error, every lab "not built"; lab 02 stopped
#      at the time limit while labs 00, 01 and 03 are still graded and pass.
#   2. Cheats, each graded with --build, that must not pass:
#      - edits-lab: the mistake, in a whole repository whose lab 00 main.cpp prints every check
#        as PASS and whose expected.txt files are replaced: its grade is the mistake's, line for
#        line (only the piece files are taken);
#      - prints-reference: its model.cpp prints the lab's expected.txt and exits, before the lab
#        runs: every default run matches the reference, and the hidden runs fail it;
#      - hard-coded: its closed-form count returns the two totals the handout prints (103680,
#        and 131392 for theory 04's variant): lab 02's default run passes, the hidden run with
#        other sizes fails.
#
#   tests/grade/class-test.sh [BUILD_DIR]    (default build/: labgrade and the labs built there)
#
# GRADE_TEST_DIR (default BUILD_DIR/grade-class-test) holds the submissions, the results and the
# scratch build; the scratch build is kept, so a second run only rebuilds what changed (the first
# builds the starter library once, about 1.5 minutes on 2 cores; later runs about 40 s).
# Exit status 0 when every expectation holds; 1 otherwise, naming the first that does not.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
mapfile -t lab_folders < "$repo/labs/labs.txt"   # the list of the labs
build="$(cd "${1:-$repo/build}" && pwd)"
root="${GRADE_TEST_DIR:-$build/grade-class-test}"
subs="$root/submissions"
results="$root/results"
work="$root/work"
key=20240917      # the hidden runs' seed: the same runs every time
timeout_s=3       # a lab takes well under a second; the endless loop is stopped after this
started=$SECONDS

fail() { echo "class-test.sh: FAILED: $*" >&2; exit 1; }
expect() {  # expect FILE PATTERN (grep -E) [what]
  grep -qE -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "${3:-no line matches '$2' in $1}"; }
}
expect_not() {
  ! grep -qE -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "${3:-a line matches '$2' in $1}"; }
}

for tool in labgrade lab00-block-by-hand; do
  [ -x "$build/bin/$tool" ] || fail "$build/bin/$tool is not built (cmake --build --preset release)"
done
rm -rf "$subs" "$results"
mkdir -p "$subs" "$results"

# The marked files: what a submission is made of.
mapfile -t marked < <(cmake -DMODE=list -DSOURCE_DIR="$repo" -P "$repo/cmake/starter.cmake" 2>&1 |
                      sed -n 's|^-- src/minimodel/\([^:/]*\): .*|\1|p' | sort -u)
[ ${#marked[@]} -gt 0 ] || fail "cmake/starter.cmake lists no marked file"
# submission DIR: a folder of the solution's piece files.
submission() {
  mkdir -p "$1"
  for f in "${marked[@]}"; do cp "$repo/src/minimodel/$f" "$1/"; done
}
# edit FILE FIND REPLACE: FIND must occur exactly once (the edit must not silently miss).
edit() {
  local file="$1" find="$2" replace="$3" text
  text="$(cat "$file"; echo x)"
  text="${text%x}"
  local rest="${text#*"$find"}"
  [ "$rest" != "$text" ] || fail "'$find' is not in $file: update the edit in $0"
  [ "${rest#*"$find"}" = "$rest" ] || fail "'$find' occurs twice in $file: update the edit in $0"
  printf '%s' "${text%%"$find"*}$replace$rest" > "$file"
}
# The mistake as the catalogue writes it (tests/mistakes/), so it follows the code.
mistake_file="$repo/tests/mistakes/layer-norm-unbiased-variance.mistake"
ln_find="$(sed -n 's/^find: *//p' "$mistake_file")"
ln_replace="$(sed -n 's/^replace: *//p' "$mistake_file")"
[ -n "$ln_find" ] && [ -n "$ln_replace" ] || fail "no one-line find/replace in $mistake_file"
closed_form_head="closed_form_parameter_count(const MiniGPTConfig& c) {"

class="$subs/class"
submission "$class/correct"
submission "$class/mistake"
edit "$class/mistake/layer_norm.cpp" "$ln_find" "$ln_replace"
submission "$class/does-not-compile"
printf '\nint broken = ;  // a statement that is not C++\n' >> "$class/does-not-compile/ffn.cpp"
submission "$class/hangs"
edit "$class/hangs/registry.cpp" "$closed_form_head" \
  "$closed_form_head
  for (volatile int spin = 0; spin == 0;) {  // an endless loop (volatile: the compiler keeps it)
  }"

grade=("$repo/scripts/grade.sh")
options=(--work "$work" --key "$key" --timeout "$timeout_s")
export MINIMODEL_BUILD_DIR="$build"

echo "class-test.sh: 1. a class of four: ${marked[*]} from the solution, three of them edited"
"${grade[@]}" --class "$class" --out "$results/class" "${options[@]}" > "$root/class.log" 2>&1 ||
  { cat "$root/class.log" >&2; fail "grade.sh --class exited $?"; }
cat "$root/class.log"
book="$results/class/gradebook.csv"
[ -f "$book" ] || fail "no gradebook at $book"
echo "--- $book"
cat "$book"
# One row per student in name order, after the header.
[ "$(cut -d, -f1 "$book" | tr '\n' ' ')" = "student correct does-not-compile hangs mistake " ] ||
  fail "the gradebook's rows are not the four students in order"
# The header says how many checks each lab has; "correct" has them all.
mapfile -t max < <(head -1 "$book" | grep -oE '\(of [0-9]+\)' | grep -oE '[0-9]+')
[ ${#max[@]} -eq 6 ] || fail "the header has not four labs, the total and the labs passed, each with its maximum"
row() { grep "^$1," "$book"; }
[ "$(row correct)" = "correct,${max[0]},${max[1]},${max[2]},${max[3]},${max[4]},4,PASS" ] ||
  fail "correct should have every check: $(row correct)"
[[ "$(row does-not-compile)" =~ ^does-not-compile,0,0,0,0,0,0,does\ not\ build:\ src/minimodel/ffn\.cpp:[0-9]+:[0-9]+:\ error: ]] ||
  fail "does-not-compile should have nothing and name ffn.cpp's error: $(row does-not-compile)"
# (Lab 02 keeps the checks it printed before the endless loop, if any: stdout is line-buffered.)
[[ "$(row hangs)" =~ ^hangs,${max[0]},${max[1]},([0-9]+),${max[3]},([0-9]+),3,FAIL:\ lab02\ timeout$ ]] &&
  [ "${BASH_REMATCH[1]}" -lt "${max[2]}" ] &&
  [ "${BASH_REMATCH[2]}" -eq $((max[0] + max[1] + BASH_REMATCH[1] + max[3])) ] ||
  fail "hangs should lose lab 02 to the time limit and keep the others: $(row hangs)"
[[ "$(row mistake)" =~ ^mistake,([0-9]+),.*,([0-9]),\"?FAIL:\ lab00\ fail ]] && [ "${BASH_REMATCH[1]}" -lt "${max[0]}" ] ||
  fail "mistake should fail lab 00: $(row mistake)"

fb="$results/class/feedback"
for student in correct does-not-compile hangs mistake; do [ -f "$fb/$student.txt" ] || fail "no feedback file for $student"; done
expect "$fb/correct.txt" "^Overall: PASS, 4 of 4 labs pass"
expect_not "$fb/correct.txt" "FAIL|MISSING"
expect "$fb/does-not-compile.txt" "^Your code does not build"
expect "$fb/does-not-compile.txt" "src/minimodel/ffn\.cpp:[0-9]+:[0-9]+: error: "
expect "$fb/does-not-compile.txt" "int broken = ;"
expect "$fb/does-not-compile.txt" "^lab03 · 03-causality-perturbation: NOT BUILT"
expect "$fb/hangs.txt" "^lab02 · 02-parameter-inventory: TIMEOUT, [0-9]+ of"
expect "$fb/hangs.txt" "stopped after $timeout_s s, the time limit"
expect "$fb/hangs.txt" "run variant \(--vocab-size 512 --norm rmsnorm --no-biases\): NOT RUN"
expect "$fb/hangs.txt" "^lab03 · 03-causality-perturbation: PASS"
expect "$fb/mistake.txt" "^lab00 · 00-block-by-hand: FAIL"
expect "$fb/mistake.txt" "\[FAIL\] block_0\.ln1 vs reference: the lab says FAIL: "
expect "$fb/mistake.txt" "^  run text \(--seed [0-9]+ --text '<bos> [^']+'\): FAIL"

echo "class-test.sh: 2. cheats that must not pass"
# edits-lab: the mistake in a whole repository, with a lab that passes everything and its own
# references. Its grade must be the mistake's.
cheat="$subs/edits-lab"
mkdir -p "$cheat/src"
cp -r "$repo/labs" "$cheat/labs"
submission "$cheat/src/minimodel"
cp "$class/mistake/layer_norm.cpp" "$cheat/src/minimodel/"
cat > "$cheat/labs/00-block-by-hand/main.cpp" <<'EOF'
// Every check passes, whatever the model computes.
#include <cstdio>
int main() {
  std::puts("[PASS] block_0.ln1 vs reference: trust me");
  return 0;
}
EOF
for f in "$cheat"/labs/*/expected.txt; do "$build/bin/lab00-block-by-hand" > "$f"; done
status=0
"${grade[@]}" --build "$cheat" --out "$results/edits-lab" "${options[@]}" > "$root/edits-lab.log" 2>&1 || status=$?
[ $status -eq 1 ] || { cat "$root/edits-lab.log" >&2; fail "edits-lab: grade.sh exited $status, want 1 (a failing grade)"; }
expect "$results/edits-lab/report.txt" "^graded from the submission \(a repository: src/minimodel/\)"
diff <(sed -n '/^summary$/,$p' "$results/class/students/mistake/report.txt") \
     <(sed -n '/^summary$/,$p' "$results/edits-lab/report.txt") ||
  fail "edits-lab is not graded as the same mistake without the edited lab (diff above)"
echo "class-test.sh: edits-lab: graded as the mistake it holds: $(grep '^overall:' "$results/edits-lab/report.txt")"

# prints-reference: the reference output, printed instead of computed.
cheat="$subs/prints-reference"
submission "$cheat"
{
  printf '\n// A cheat: print the reference output of the lab that runs, and stop before it computes.\n'
  printf '#include <cerrno>\n#include <cstdio>\n#include <cstdlib>\n#include <cstring>\nnamespace {\n'
  printf 'const char* const kCopied[][2] = {\n'
  for folder in "${lab_folders[@]}"; do
    printf '    {"lab%s", R"COPIED(' "$folder"
    cat "$repo/labs/$folder/expected.txt"
    printf ')COPIED"},\n'
  done
  printf '};\nstruct PrintCopied {\n  PrintCopied() {\n'
  printf '    for (const auto& lab : kCopied) {\n'
  printf '      if (std::strcmp(program_invocation_short_name, lab[0]) == 0) {\n'
  printf '        std::fputs(lab[1], stdout);\n        std::exit(0);\n      }\n    }\n  }\n} print_copied;\n}  // namespace\n'
} >> "$cheat/model.cpp"
status=0
"${grade[@]}" --build "$cheat" --out "$results/prints-reference" "${options[@]}" > "$root/prints-reference.log" 2>&1 || status=$?
[ $status -eq 1 ] || { cat "$root/prints-reference.log" >&2; fail "prints-reference: grade.sh exited $status, want 1"; }
"$build/bin/labgrade" "$results/prints-reference/outputs" --hidden "$results/prints-reference/reference" \
  --list-failing > "$root/prints-reference.failing" || true
# The copied outputs pass every default run (no "labNN | check" line without a [run]) ...
expect_not "$root/prints-reference.failing" "^lab[0-9]+ \| [^[]" "prints-reference: a default run failed, so the cheat was not a copy"
for folder in "${lab_folders[@]}"; do
  cmp -s "$repo/labs/$folder/expected.txt" "$results/prints-reference/outputs/lab${folder:0:2}.txt" ||
    fail "prints-reference: the default run of $folder did not print its expected.txt"
done
# ... and every lab fails on its hidden runs.
expect "$results/prints-reference/report.txt" "^overall: FAIL, 0 of [0-9]+ labs pass"
echo "class-test.sh: prints-reference: every default run is expected.txt, and $(grep '^overall:' "$results/prints-reference/report.txt")"

# hard-coded: the closed form returns the totals the handout prints.
cheat="$subs/hard-coded"
submission "$cheat"
edit "$cheat/registry.cpp" "$closed_form_head" \
  "$closed_form_head
  return c.norm() == NormKind::layer_norm ? 103680 : 131392;  // the totals labs/02-*/expected.txt prints"
status=0
"${grade[@]}" --build "$cheat" --out "$results/hard-coded" "${options[@]}" > "$root/hard-coded.log" 2>&1 || status=$?
[ $status -eq 1 ] || { cat "$root/hard-coded.log" >&2; fail "hard-coded: grade.sh exited $status, want 1"; }
"$build/bin/labgrade" "$results/hard-coded/outputs" --hidden "$results/hard-coded/reference" \
  --list-failing > "$root/hard-coded.failing" || true
expect_not "$root/hard-coded.failing" "^lab02 \| [^[]" "hard-coded: lab 02's default run should pass"
expect "$root/hard-coded.failing" "^lab02 \| \[sizes\] counted from the tensors == closed form \| the lab says FAIL"
expect "$results/hard-coded/report.txt" "^  lab02  FAIL"
echo "class-test.sh: hard-coded: lab 02's default run passes, its hidden run 'sizes' fails"

echo "class-test.sh: every expectation holds ($((SECONDS - started)) s)"
