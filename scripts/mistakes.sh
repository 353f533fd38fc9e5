#!/usr/bin/env bash
# The mutation harness (issue 13, "Faithful labs"): do the labs catch the mistakes a student
# plausibly makes, and does the first failing check name the operation at fault?
#
# Each file tests/mistakes/<name>.mistake describes one mistake as an exact text edit of the
# solution (the format is in tests/mistakes/README.md). This script
#   1. copies the repository's files (git ls-files: tracked, plus untracked ones that are not
#      ignored, as they are in the working tree) into a scratch folder;
#   2. configures a Release build there (the library compiles file by file, so an edit
#      recompiles one file), without tests, benchmarks or fuzzers, and builds the four labs
#      once; runs them untouched: every lab must pass (the baseline), and the checks they
#      print are the ones the coverage report accounts for;
#   3. for each mistake: applies the edit (each find text must occur exactly once, or the
#      harness stops and names the mistake file: the catalogue cannot rot silently), rebuilds
#      the labs incrementally, runs labs 00..03 in order with their default arguments, takes
#      the first lab that exits non-zero and its first [FAIL] line, checks that the line
#      contains the mistake's `expect` text (and that the lab is its `lab`, when given), and
#      restores the file;
#   4. prints one line per mistake, then per lab the checks no mistake made fail (the
#      coverage gaps), and the total time.
# A lab that exits 2 (an error), crashes or times out has not caught the mistake with a
# check: that counts against the mistake, as does a lab that passes everything.
#
#   scripts/mistakes.sh                       every mistake in tests/mistakes/
#   scripts/mistakes.sh --only NAME           one mistake (repeatable; shell patterns work:
#                                             --only 'rope-*')
#   scripts/mistakes.sh --keep DIR            build in DIR and keep it; a later run with the
#                                             same DIR copies only the files that changed and
#                                             rebuilds incrementally (fast)
#   scripts/mistakes.sh --require-coverage    also exit 1 when some check no mistake made fail
#   scripts/mistakes.sh --check               only validate the catalogue (every file parses,
#                                             every find text occurs exactly once); no build
#
# Exit status: 0 every mistake caught as expected; 1 some mistake not (or, with
# --require-coverage, a coverage gap); 2 usage error, a malformed or stale mistake file, a
# failed build of the untouched tree, or a lab failing on the untouched tree.
# MISTAKES_JOBS (default 2) is the build's parallelism; OPENBLAS_NUM_THREADS defaults to 1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
catalogue="$repo/tests/mistakes"
started=$EPOCHREALTIME

usage() { sed -n '/^#   scripts\/mistakes.sh /,/^# MISTAKES_JOBS/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "mistakes.sh: $*" >&2; exit 2; }

only=()
keep=""
require_coverage=0
check_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || die "--only needs a mistake name"; only+=("$2"); shift 2 ;;
    --only=*) only+=("${1#--only=}"); shift ;;
    --keep) [ $# -ge 2 ] || die "--keep needs a directory"; keep="$2"; shift 2 ;;
    --keep=*) keep="${1#--keep=}"; shift ;;
    --require-coverage) require_coverage=1; shift ;;
    --check) check_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mistakes.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
jobs="${MISTAKES_JOBS:-2}"
trap 'exit 130' INT TERM   # so that the EXIT trap (restore the edited file, remove the scratch copy) runs
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

# Seconds since `started` (or since $1), one decimal.
elapsed() {
  local from="${1:-$started}" now=$EPOCHREALTIME
  awk -v a="$from" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# ---------------------------------------------------------------------------------------------
# The catalogue.

# occurrences TEXT PATTERN: prints 0, 1 or 2 (two or more), comparing exactly (no globbing).
occurrences() {
  local text="$1" pattern="$2" before after
  before="${text%%"$pattern"*}"
  if [ "$before" = "$text" ]; then echo 0; return; fi
  after="${text:${#before}+1}"
  case "$after" in *"$pattern"*) echo 2 ;; *) echo 1 ;; esac
}

# read_file FILE VAR: the file's exact contents (trailing newlines included) into VAR.
read_file() {
  local -n into="$2"
  into=""
  IFS= read -r -d '' into < "$1" || true
}

# parse_mistake FILE: fills m_what, m_expect, m_lab and the edits m_files[i], m_finds[i],
# m_replaces[i]; prints every problem to stderr and returns 1 if there is one.
parse_mistake() {
  local path="$1" line key value lineno=0 problems=0 file=""
  local block="" block_lines=0 state=none   # state: none, find (awaiting replace), replaced
  m_what="" m_expect="" m_lab=""
  m_files=() m_finds=() m_replaces=()
  _complain() { echo "mistakes.sh: ${path#"$repo/"}:$lineno: $*" >&2; problems=1; }
  _end_edit() { [ "$state" != find ] || _complain "'find:' without a 'replace:' after it"; state=none; }
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line="${line%$'\r'}"
    if [[ "$line" == "|"* ]]; then                # a line of a find: or replace: block
      value="${line#|}"
      value="${value# }"
      local last=$((${#m_finds[@]} - 1))
      case "$block" in
        find) [ $block_lines -eq 0 ] && m_finds[last]="$value" || m_finds[last]+=$'\n'"$value" ;;
        replace) [ $block_lines -eq 0 ] && m_replaces[last]="$value" || m_replaces[last]+=$'\n'"$value" ;;
        *) _complain "a '|' line must follow 'find:' or 'replace:' (or another '|' line)" ;;
      esac
      block_lines=$((block_lines + 1))
      continue
    fi
    block=""
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    if ! [[ "$line" =~ ^([a-z]+):[[:space:]]*(.*)$ ]]; then
      _complain "expected 'key: value', a '|' block line, a comment or a blank line"
      continue
    fi
    key="${BASH_REMATCH[1]}"
    value="${BASH_REMATCH[2]}"
    value="${value%"${value##*[![:space:]]}"}"   # trailing blanks are never significant
    case "$key" in
      what|expect|lab)
        _end_edit
        local -n slot="m_$key"
        [ -z "$slot" ] || _complain "'$key:' given twice"
        slot="$value"
        unset -n slot ;;
      file)
        _end_edit
        [ -n "$value" ] || _complain "'file:' needs a path (from the repository root)"
        file="$value" ;;
      find)
        _end_edit
        [ -n "$file" ] || _complain "'find:' before any 'file:'"
        m_files+=("$file"); m_finds+=("$value"); m_replaces+=("")
        state=find
        [ -n "$value" ] || { block=find; block_lines=0; } ;;
      replace)
        if [ "$state" = find ]; then
          m_replaces[${#m_replaces[@]}-1]="$value"
          state=replaced
          [ -n "$value" ] || { block=replace; block_lines=0; }
        else
          _complain "'replace:' without a 'find:' just before it"
        fi ;;
      *) _complain "unknown key '$key:' (known: what, file, find, replace, expect, lab)" ;;
    esac
  done < "$path"
  _end_edit
  lineno=end
  [ -n "$m_what" ] || _complain "missing 'what:' (one line describing the mistake)"
  [ -n "$m_expect" ] || _complain "missing 'expect:' (what the first failing check must name)"
  [ ${#m_finds[@]} -gt 0 ] || _complain "no edit: give 'file:', 'find:' and 'replace:'"
  local i
  for i in "${!m_finds[@]}"; do
    if [ -z "${m_finds[i]}" ]; then
      _complain "edit $((i + 1)): the find text is empty"
    elif [ "${m_finds[i]}" = "${m_replaces[i]}" ]; then
      _complain "edit $((i + 1)): the replacement equals the find text"
    fi
  done
  if [ -n "$m_lab" ] && ! compgen -G "$repo/labs/$m_lab-*/" >/dev/null; then
    _complain "'lab: $m_lab' names no folder labs/$m_lab-*/"
  fi
  return $problems
}

# apply_edits ROOT NAME: applies the parsed edits to the files under ROOT, in order; each
# find text must occur exactly once in its file at that point. With DRY=1 only checks.
# Prints every problem (naming the mistake file) and returns 1 if there is one.
apply_edits() {
  local root="$1" name="$2" i text count problems=0
  declare -A contents=()
  for i in "${!m_finds[@]}"; do
    local file="${m_files[i]}"
    if [ -z "${contents[$file]+set}" ]; then
      if [ ! -f "$root/$file" ]; then
        echo "mistakes.sh: tests/mistakes/$name.mistake: edit $((i + 1)): no file '$file' in the tree" >&2
        problems=1; continue
      fi
      read_file "$root/$file" text
      contents[$file]="$text"
    fi
    count="$(occurrences "${contents[$file]}" "${m_finds[i]}")"
    if [ "$count" != 1 ]; then
      local times="does not occur"
      [ "$count" = 2 ] && times="occurs more than once"
      echo "mistakes.sh: tests/mistakes/$name.mistake: edit $((i + 1)): the find text $times in $file (it must occur exactly once; update the mistake to today's code):" >&2
      printf '%s\n' "${m_finds[i]}" | sed 's/^/    | /' >&2
      problems=1; continue
    fi
    contents[$file]="${contents[$file]/"${m_finds[i]}"/"${m_replaces[i]}"}"
  done
  [ $problems -eq 0 ] || return 1
  [ "${DRY:-0}" = 1 ] && return 0
  for file in "${!contents[@]}"; do printf '%s' "${contents[$file]}" > "$root/$file"; done
}

shopt -s nullglob
all_files=("$catalogue"/*.mistake)
shopt -u nullglob
[ ${#all_files[@]} -gt 0 ] || die "no mistakes in tests/mistakes/*.mistake"
names=()
for path in "${all_files[@]}"; do
  name="$(basename "$path" .mistake)"
  if [ ${#only[@]} -gt 0 ]; then
    selected=0
    for pattern in "${only[@]}"; do
      # shellcheck disable=SC2053  # the pattern is meant to glob
      [[ "$name" == $pattern ]] && selected=1
    done
    [ $selected -eq 1 ] || continue
  fi
  names+=("$name")
done
[ ${#names[@]} -gt 0 ] || die "no mistake matches --only ${only[*]} (see tests/mistakes/)"
if [ ${#only[@]} -gt 0 ]; then
  for pattern in "${only[@]}"; do
    matched=0
    for name in "${names[@]}"; do [[ "$name" == $pattern ]] && matched=1; done
    [ $matched -eq 1 ] || die "no mistake matches --only '$pattern' (see tests/mistakes/)"
  done
fi

# Every selected mistake parses and applies to the working tree, before anything is built.
declare -A what expect expect_lab
catalogue_ok=1
for name in "${names[@]}"; do
  parse_mistake "$catalogue/$name.mistake" || catalogue_ok=0
  what[$name]="$m_what"; expect[$name]="$m_expect"; expect_lab[$name]="$m_lab"
  # The edits that parsed must apply, even when something else in the file is wrong.
  for i in "${!m_finds[@]}"; do [ -n "${m_finds[i]}" ] || unset 'm_finds[i]'; done
  [ ${#m_finds[@]} -eq 0 ] || DRY=1 apply_edits "$repo" "$name" || catalogue_ok=0
done
[ $catalogue_ok -eq 1 ] || die "the catalogue does not apply to today's code (above); nothing was built"
echo "mistakes.sh: ${#names[@]} mistakes parse and apply (each find text occurs exactly once)"
[ $check_only -eq 1 ] && exit 0

# ---------------------------------------------------------------------------------------------
# The scratch copy and its build.

if [ -n "$keep" ]; then
  work="$(realpath -m "$keep")"
  # Inside the repository, the folder would be copied into itself on the next run.
  if [[ "$work/" == "$repo/"* ]] && ! git -C "$repo" check-ignore -q "$work/"; then
    die "--keep $keep is inside the repository and not ignored by git; use e.g. build-mistakes (ignored) or a folder outside"
  fi
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/mistakes.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
tree="$work/tree"
build="$work/build"
logs="$work/logs"
rm -rf "$work/runs" "$logs"   # a kept folder: the previous run's outputs would mislead
mkdir -p "$tree" "$build" "$logs"

# Copy the files git knows (tracked, plus untracked ones not ignored: work in progress that a
# tracked CMakeLists.txt may already name). A file already in the scratch copy is rewritten
# only when it differs, so a kept build rebuilds only what changed.
git -C "$repo" ls-files -z --cached --others --exclude-standard > "$work/files.list"
copied=0
declare -A listed=()
while IFS= read -r -d '' file; do
  [ -f "$repo/$file" ] || continue          # tracked but deleted in the working tree
  listed[$file]=1
  if ! cmp -s "$repo/$file" "$tree/$file" 2>/dev/null; then
    mkdir -p "$(dirname "$tree/$file")"
    cp "$repo/$file" "$tree/$file"
    copied=$((copied + 1))
  fi
done < "$work/files.list"
removed=0
while IFS= read -r -d '' file; do
  file="${file#"$tree/"}"
  if [ -z "${listed[$file]+set}" ]; then rm -f "$tree/$file"; removed=$((removed + 1)); fi
done < <(find "$tree" -type f -print0)
echo "mistakes.sh: scratch copy in $work (${#listed[@]} files; $copied copied, $removed removed)"

labs=()
mapfile -t labs < "$tree/labs/labs.txt"   # the list of the labs
[ ${#labs[@]} -gt 0 ] || die "labs/labs.txt of the copy lists no lab"
targets=()
for lab in "${labs[@]}"; do targets+=("lab$lab"); done

# Warnings are not errors here: a mistake that leaves a variable unused (a deleted line) must
# reach the labs, which are what is under test, not stop at -Werror. MINIMODEL_SCALAR_PIECES:
# the forward runs the pieces as a student's build does (the exact GELU through gelu_exact, not
# its vectorised copy), since every edit here is a student's mistake.
if [ ! -f "$build/build.ninja" ]; then
  t0=$EPOCHREALTIME
  cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DMINIMODEL_BUILD_BENCHMARKS=OFF -DMINIMODEL_BUILD_FUZZERS=OFF -DMINIMODEL_STARTER=OFF \
    -DMINIMODEL_WERROR=OFF -DMINIMODEL_SCALAR_PIECES=ON \
    > "$logs/configure.log" 2>&1 || { cat "$logs/configure.log" >&2; die "configuring the scratch build failed"; }
  echo "mistakes.sh: configured in $(elapsed "$t0") s"
fi

build_labs() {  # build_labs LOG
  cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" > "$1" 2>&1
}
t0=$EPOCHREALTIME
build_labs "$logs/build-untouched.log" || {
  tail -n 30 "$logs/build-untouched.log" >&2
  die "building the untouched copy failed (log: $logs/build-untouched.log)"
}
first_build_seconds="$(elapsed "$t0")"
echo "mistakes.sh: built the labs of the untouched copy in $first_build_seconds s"

# run_labs OUTDIR: runs every lab in order into OUTDIR/<lab>.out/.err/.status.
run_labs() {
  local out="$1" lab status
  mkdir -p "$out"
  for lab in "${labs[@]}"; do
    status=0
    (cd "$tree" && timeout 60 "$build/bin/lab$lab") > "$out/$lab.out" 2> "$out/$lab.err" || status=$?
    echo "$status" > "$out/$lab.status"
  done
}
# check_names FILE [PASS|FAIL|PASS\|FAIL]: the names of the check lines, in order: the text
# between "[PASS] " or "[FAIL] " and the first ':'.
check_names() {
  sed -n -E "s/^[[:space:]]*\[($2)\] //p" "$1" | sed 's/:.*//'
}

t0=$EPOCHREALTIME
run_labs "$work/runs/untouched"
baseline_ok=1
declare -A all_checks=()   # lab -> its check names, one per line, as the untouched run prints them
for lab in "${labs[@]}"; do
  status="$(cat "$work/runs/untouched/$lab.status")"
  if [ "$status" != 0 ]; then
    echo "mistakes.sh: lab$lab fails on the untouched copy (exit $status):" >&2
    grep -m5 -E '^[[:space:]]*\[FAIL\]' "$work/runs/untouched/$lab.out" >&2 || head -n 5 "$work/runs/untouched/$lab.err" >&2
    baseline_ok=0
  fi
  all_checks[$lab]="$(check_names "$work/runs/untouched/$lab.out" 'PASS|FAIL' | awk '!seen[$0]++')"
done
[ $baseline_ok -eq 1 ] || die "the untouched tree must pass every lab before mistakes can be judged"
echo "mistakes.sh: the untouched labs pass ($(elapsed "$t0") s to run all ${#labs[@]})"

# ---------------------------------------------------------------------------------------------
# The mistakes.

declare -A failed_checks=()  # "lab<TAB>check name" -> mistakes that made it fail
declare -A result_lab result_line result_verdict result_failing
bad=0
index=0
mistakes_started=$EPOCHREALTIME
for name in "${names[@]}"; do
  index=$((index + 1))
  parse_mistake "$catalogue/$name.mistake"
  # Originals of the files this mistake edits, to restore them afterwards.
  backup="$work/backup"
  rm -rf "$backup"; mkdir -p "$backup"
  declare -A edited=()
  for file in "${m_files[@]}"; do edited[$file]=1; done
  for file in "${!edited[@]}"; do mkdir -p "$(dirname "$backup/$file")"; cp -p "$tree/$file" "$backup/$file"; done
  restore() {
    local f
    for f in "${!edited[@]}"; do cp "$backup/$f" "$tree/$f"; done   # a new mtime: rebuilt next time
  }
  trap 'restore; [ -n "$keep" ] || rm -rf "$work"' EXIT

  lab_seen="-" line="-" verdict="" failing=""
  if ! apply_edits "$tree" "$name"; then
    verdict="STALE: the find text must occur exactly once"; bad=1
  else
    t0=$EPOCHREALTIME
    if ! build_labs "$logs/build-$name.log"; then
      verdict="BUILD FAILED: $(grep -m1 'error:' "$logs/build-$name.log" | cut -c1-120)"
      bad=1
    else
      build_seconds="$(elapsed "$t0")"
      t0=$EPOCHREALTIME
      out="$work/runs/$name"
      rm -rf "$out"
      run_labs "$out"
      run_seconds="$(elapsed "$t0")"
      for lab in "${labs[@]}"; do
        while IFS= read -r check; do
          [ -n "$check" ] || continue
          key="$lab"$'\t'"$check"
          failed_checks[$key]="${failed_checks[$key]:+${failed_checks[$key]} }$name"
        done < <(check_names "$out/$lab.out" FAIL)
      done
      for lab in "${labs[@]}"; do
        [ "$(cat "$out/$lab.status")" = 0 ] || failing+="${failing:+,}${lab%%-*}"
      done
      for lab in "${labs[@]}"; do
        status="$(cat "$out/$lab.status")"
        [ "$status" = 0 ] && continue
        lab_seen="${lab%%-*}"
        case "$status" in
          1)
            line="$(grep -m1 -E '^[[:space:]]*\[FAIL\]' "$out/$lab.out" || true)"
            line="${line#"${line%%[![:space:]]*}"}"
            if [ -z "$line" ]; then
              line="-"; verdict="NO [FAIL] LINE (exit 1)"
            elif [[ "$line" != *"${expect[$name]}"* ]]; then
              verdict="WRONG CHECK (want '${expect[$name]}')"
            elif [ -n "${expect_lab[$name]}" ] && [ "$lab_seen" != "${expect_lab[$name]}" ]; then
              verdict="WRONG LAB (want ${expect_lab[$name]})"
            else
              verdict="ok"
            fi ;;
          124) verdict="TIMED OUT (not a check)" ;;
          2) verdict="ERROR exit 2 (not a check)" ;;
          *) verdict="CRASHED exit $status (not a check)" ;;
        esac
        if [ "$status" != 1 ]; then
          # What the lab printed before it stopped, and why it stopped.
          line="$(grep -m1 -E '^[[:space:]]*\[FAIL\]' "$out/$lab.out" || true)"
          line="${line#"${line%%[![:space:]]*}"}"
          line="${line:+$line ... then }stderr: $(head -n1 "$out/$lab.err")"
        fi
        break
      done
      [ -n "$verdict" ] || verdict="NOT CAUGHT (every lab passes)"
      [ "$verdict" = ok ] || bad=1
      echo "mistakes.sh: [$index/${#names[@]}] $name (${what[$name]}): rebuilt in $build_seconds s, labs ran in $run_seconds s: $verdict"
    fi
  fi
  result_lab[$name]="$lab_seen"; result_line[$name]="$line"; result_verdict[$name]="$verdict"
  result_failing[$name]="${failing:--}"
  restore
  unset edited
  trap '[ -n "$keep" ] || rm -rf "$work"' EXIT
done
mistakes_seconds="$(elapsed "$mistakes_started")"

# ---------------------------------------------------------------------------------------------
# The report.

width=7
for name in "${names[@]}"; do [ ${#name} -gt $width ] && width=${#name}; done
vwidth=7
for name in "${names[@]}"; do v="${result_verdict[$name]}"; [ ${#v} -gt $vwidth ] && vwidth=${#v}; done
echo
echo "== Mistakes: the first failing check of the first failing lab =="
# The columns: the mistake; the first lab that exits non-zero; the verdict; every lab that
# exits non-zero; the first [FAIL] line of the first one (or its first line of stderr).
fwidth=7
for name in "${names[@]}"; do f="${result_failing[$name]}"; [ ${#f} -gt $fwidth ] && fwidth=${#f}; done
printf "%-${width}s  %-3s  %-${vwidth}s  %-${fwidth}s  %s\n" "mistake" "lab" "verdict" "failing" "first [FAIL] line of the first failing lab"
for name in "${names[@]}"; do
  printf "%-${width}s  %-3s  %-${vwidth}s  %-${fwidth}s  %s\n" "$name" "${result_lab[$name]}" \
    "${result_verdict[$name]}" "${result_failing[$name]}" "${result_line[$name]}"
done
caught=0
for name in "${names[@]}"; do [ "${result_verdict[$name]}" = ok ] && caught=$((caught + 1)); done
echo "$caught of ${#names[@]} mistakes named as expected."

echo
echo "== Coverage: checks that no mistake made fail =="
[ ${#only[@]} -eq 0 ] || echo "(only the mistakes selected with --only were run)"
gaps=0
for lab in "${labs[@]}"; do
  total=0 missing=()
  while IFS= read -r check; do
    [ -n "$check" ] || continue
    total=$((total + 1))
    [ -n "${failed_checks[$lab$'\t'$check]+set}" ] || missing+=("$check")
  done <<< "${all_checks[$lab]}"
  echo "lab$lab: $((total - ${#missing[@]})) of $total checks made to fail"
  for check in "${missing[@]}"; do echo "    never failed: $check"; done
  gaps=$((gaps + ${#missing[@]}))
done

echo
echo "mistakes.sh: total $(elapsed) s (first build $first_build_seconds s; ${#names[@]} mistakes $mistakes_seconds s, $(awk -v t="$mistakes_seconds" -v n="${#names[@]}" 'BEGIN { printf "%.1f", t / n }') s each on average); logs and outputs in $work$([ -n "$keep" ] || echo ', removed on exit')"
[ $bad -eq 0 ] || exit 1
if [ $gaps -gt 0 ] && [ $require_coverage -eq 1 ]; then
  echo "mistakes.sh: $gaps checks no mistake made fail (--require-coverage)"
  exit 1
fi
exit 0
