#!/usr/bin/env bash
# The instructor's grader (docs/grading.md). Three ways to use it:
#
#   scripts/grade.sh <folder> [labgrade options]
#       grades a folder of a student's lab outputs: lab00.txt ... lab03.txt (what each lab
#       printed; the binaries' names, lab00-block-by-hand.txt ..., work too) against labs/ of
#       THIS tree. It trusts the outputs: use --build to grade code.
#   scripts/grade.sh --build <submission> [options] [--json FILE] [--brief] [--checks-only]
#       grades a student's code. <submission> is the student's repository (the pieces in
#       src/minimodel/) or a folder holding just the piece files. Only the piece files (the
#       files of src/minimodel/ that hold STARTER markers here) are taken from it: they are
#       copied into a scratch student folder and built with THIS tree's `starter` preset, so the
#       labs, their checks and the references are this tree's, whatever else the submission
#       holds. Every lab then runs with its default arguments (graded against
#       labs/NN-*/expected.txt) and with hidden arguments (graded against what this tree's
#       solution build prints for the same arguments), each under a time limit.
#   scripts/grade.sh --class <folder> --out <dir> [options] [--checks-only]
#       grades every subfolder of <folder> (one submission per student, named after the
#       student) as --build does, and writes <dir>/gradebook.csv and <dir>/feedback/<student>.txt.
#
# Options of --build and --class:
#   --out DIR          results: report.txt, verdicts.json, feedback.txt, build.log, outputs/ per
#                      student (--build: DIR itself; default build-grade/results/<submission>)
#   --work DIR         the scratch build, reused from one grading to the next so that only what
#                      changed is rebuilt (default build-grade/work)
#   --runs FILE        the hidden runs, one per line: LAB<tab>NAME<tab>ARG<tab>ARG... (the
#                      format of <out>/reference/runs.tsv). Default: drawn from --key
#   --key N            the seed the hidden runs are drawn from (default: a random one; it is
#                      printed, and the runs are in <out>/reference/runs.tsv)
#   --timeout S        seconds a lab run may take before it is stopped (default 20)
#   --build-timeout S  seconds the build of one submission may take (default 900)
#
# The grader runs the student's code: do it as a user, in a container or on a machine that
# holds nothing you would not show the student.
# Exit status: one submission (folder or --build): 0 when every lab passes, 1 when one does
# not; --class: 0 when every student was graded; 2 on bad input.
# labgrade and the solution's labs come from build/ (built here if needed);
# MINIMODEL_BUILD_DIR=<dir> uses an already configured build directory instead.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "grade.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || usage
mode=outputs
case "$1" in
  --build) mode=build ;;
  --class) mode=class ;;
  -h|--help) usage ;;
  -*) usage ;;
esac
if [ "$mode" = outputs ]; then
  folder="$1"
  shift
  [ -d "$folder" ] || die "the submission folder '$folder' does not exist or is not a folder"
else
  [ $# -ge 2 ] || usage
  target="$2"
  shift 2
  [ -d "$target" ] || die "'$target' is not a folder"
  target="$(cd "$target" && pwd)"
fi

out="" work="" runs_file="" key="" timeout_s=20 build_timeout=900 json_copy=""
labgrade_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out|--work|--runs|--key|--timeout|--build-timeout)
      [ "$mode" != outputs ] || die "$1 is for --build and --class (a folder of outputs is only read)"
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --out) out="$2" ;;
        --work) work="$2" ;;
        --runs) runs_file="$2" ;;
        --key) key="$2" ;;
        --timeout) timeout_s="$2" ;;
        --build-timeout) build_timeout="$2" ;;
      esac
      shift 2 ;;
    --build|--class) die "$1 comes first: scripts/grade.sh $1 <folder> ..." ;;
    --json)
      [ "$mode" = build ] || { labgrade_args+=("$1"); shift; continue; }
      [ $# -ge 2 ] || die "--json needs a file"
      json_copy="$2"; shift 2 ;;
    *) labgrade_args+=("$1"); shift ;;
  esac
done
for n in "$timeout_s" "$build_timeout" ${key:+"$key"}; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || die "'$n' is not a whole number of seconds (or a key) > 0"
done
[ -z "$runs_file" ] || [ -f "$runs_file" ] || die "the runs file '$runs_file' does not exist"
if [ "$mode" = class ]; then
  [ -n "$out" ] || die "--class needs --out <dir>: where the gradebook and the feedback files go"
  for arg in "${labgrade_args[@]}"; do
    case "$arg" in
      --checks-only|--abs|--rel|[0-9]*|.[0-9]*) ;;
      *) die "--class takes --checks-only, --abs and --rel for labgrade; '$arg' is not one of them" ;;
    esac
  done
fi

# The grader and the solution's labs, from this tree.
build_dir="${MINIMODEL_BUILD_DIR:-$here/build}"
if [ -z "${MINIMODEL_BUILD_DIR:-}" ]; then
  (cd "$here" && scripts/setup.sh >/dev/null && cmake --preset release >/dev/null)
fi
lab_folders=()
mapfile -t lab_folders < "$here/labs/labs.txt"   # the list of the labs
lab_targets=()
for name in "${lab_folders[@]}"; do lab_targets+=("lab$name"); done
if [ "$mode" = outputs ]; then
  cmake --build "$build_dir" --target labgrade >/dev/null || die "could not build labgrade in $build_dir"
  exec "$build_dir/bin/labgrade" "$folder" "${labgrade_args[@]}"
fi
cmake --build "$build_dir" --target labgrade "${lab_targets[@]}" >/dev/null ||
  die "could not build labgrade and the solution's labs in $build_dir"
labgrade="$build_dir/bin/labgrade"

# lab_binary NN: the binary of lab NN ("" when there is no such lab).
lab_binary() {
  local name
  for name in "${lab_folders[@]}"; do
    [ "${name%%-*}" = "$1" ] && { echo "lab$name"; return; }
  done
  echo ""
}

# --- The scratch build: this tree's starter preset, compiling the pieces from $work/student/.
work="${work:-$here/build-grade/work}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
exec 9> "$work/.lock"
flock -n 9 || die "another grade.sh is using $work (give another --work)"
# The marked files, as cmake/starter.cmake lists them: the files a submission is taken for.
mapfile -t marked < <(cmake -DMODE=list -DSOURCE_DIR="$here" -P "$here/cmake/starter.cmake" 2>&1 |
                      sed -n 's|^-- src/minimodel/\([^:/]*\): .*|\1|p' | sort -u)
[ ${#marked[@]} -gt 0 ] || die "cmake/starter.cmake lists no marked file in $here/src/minimodel"
rm -rf "$work/starter"
cmake -DMODE=generate -DSOURCE_DIR="$here" -DOUT_DIR="$work/starter" -P "$here/cmake/starter.cmake" >/dev/null ||
  die "could not generate the starter copies into $work/starter"
mkdir -p "$work/student/minimodel"
# A file left from an older list of marked files would shadow this tree's header of that name.
for f in "$work/student/minimodel"/*; do
  [ -e "$f" ] || continue
  printf '%s\n' "${marked[@]}" | grep -qxF "$(basename "$f")" || rm -f "$f"
done
for f in "${marked[@]}"; do
  [ -f "$work/student/minimodel/$f" ] || cp "$work/starter/minimodel/$f" "$work/student/minimodel/$f"
done
# Configured from another tree, or before the presets changed: configure again.
if [ -f "$work/build/CMakeCache.txt" ] &&
   { ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$here" "$work/build/CMakeCache.txt" ||
     [ "$here/CMakePresets.json" -nt "$work/build/CMakeCache.txt" ]; }; then
  rm -rf "$work/build"
fi
if [ ! -f "$work/build/build.ninja" ]; then
  echo "grade.sh: configuring the scratch build in $work/build (once; later gradings reuse it)"
  (cd "$here" && cmake --preset starter -B "$work/build" -DMINIMODEL_STUDENT_DIR="$work/student") \
    > "$work/configure.log" 2>&1 || { tail -n 20 "$work/configure.log" >&2; die "could not configure $work/build"; }
fi

# --- The hidden runs, and the solution's output for each.
if [ "$mode" = build ]; then
  out="${out:-$here/build-grade/results/$(basename "$target")}"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
ref="$out/reference"
rm -rf "$ref"
mkdir -p "$ref"
export OPENBLAS_NUM_THREADS=1  # the same sums in the same order for the solution and the student

# solution_run NN NAME ARGS...: the solution's output for a run into $ref; its exit status.
solution_run() {
  local lab="$1" name="$2" bin status=0
  shift 2
  bin="$(lab_binary "$lab")"
  [ -n "$bin" ] || die "the runs name lab $lab, which labs/ does not have"
  "$build_dir/bin/$bin" "$@" > "$ref/lab$lab.$name.txt" 2> "$ref/lab$lab.$name.stderr" || status=$?
  [ -s "$ref/lab$lab.$name.stderr" ] || rm -f "$ref/lab$lab.$name.stderr"
  return $status
}

if [ -n "$runs_file" ]; then
  cp "$runs_file" "$ref/runs.tsv"
  while IFS=$'\t' read -r -a fields || [ ${#fields[@]} -gt 0 ]; do
    [ ${#fields[@]} -gt 0 ] && [ "${fields[0]:0:1}" != "#" ] || { fields=(); continue; }
    [ ${#fields[@]} -ge 2 ] && [[ "${fields[0]}" =~ ^[0-9][0-9]$ ]] && [[ "${fields[1]}" =~ ^[a-z0-9-]+$ ]] ||
      die "$runs_file: '${fields[*]}' is not LAB<tab>NAME<tab>ARG..."
    status=0
    solution_run "${fields[@]}" || status=$?
    [ $status -eq 0 ] || die "the solution's lab${fields[0]} exits $status on the run '${fields[1]}' of $runs_file: give arguments on which every check passes (see $ref/lab${fields[0]}.${fields[1]}.txt)"
    fields=()
  done < "$runs_file"
else
  [ -n "$key" ] || key=$(( (RANDOM << 15 | RANDOM) % 1000000 + 1 ))
  RANDOM=$key  # a fixed sequence of draws for a given key
  draw() { value=$(( (RANDOM << 15 | RANDOM) % ($2 - $1 + 1) + $1 )); }  # value in [$1, $2]
  draw_seed() { draw 1 99999; [ $value -ne 42 ] || value=43; }  # never the handout's seed
  mapfile -t words < <(awk -F'\t' '$1 ~ /^[0-9]+$/ && $3 != "special" { print $2 }' "$here/src/minimodel/vocab.tsv")
  [ ${#words[@]} -gt 0 ] || die "no words in $here/src/minimodel/vocab.tsv"
  # add_run NN NAME ARGS...: keeps the run when the solution passes every check on it.
  add_run() {
    if solution_run "$@"; then
      (IFS=$'\t'; printf '%s\n' "$*") >> "$ref/runs.tsv"
      return 0
    fi
    return 1
  }
  # drawn NN NAME: draws the arguments of one kind of run until the solution passes on them.
  drawn() {
    local lab="$1" name="$2" try args=() k n text tokens
    [ -n "$(lab_binary "$lab")" ] || return 0
    for try in $(seq 20); do
      args=()
      case "$name" in
        seed) draw_seed; args=(--seed "$value") ;;
        text) draw_seed; args=(--seed "$value")
              draw 5 10; n=$value; text="<bos>"
              for k in $(seq "$n"); do draw 0 $((${#words[@]} - 1)); text+=" ${words[$value]}"; done
              args+=(--text "$text") ;;
        variant) args=(--vocab-size 512 --norm rmsnorm --no-biases) ;;
        sizes) local heads d_head
               draw 1 3; heads=$((1 << value)); draw 2 4; d_head=$((1 << value))
               draw 65 2000; args=(--vocab-size "$value" --d-model $((heads * d_head)) --n-heads "$heads")
               draw 1 4; args+=(--n-layers "$value"); draw 2 4; args+=(--d-ff $((value * heads * d_head))) ;;
        tokens) draw_seed; args=(--seed "$value")
                draw 6 12; n=$value; tokens=""
                for k in $(seq "$n"); do draw 0 63; tokens+="${tokens:+,}$value"; done
                draw 1 $((n - 2)); args+=(--tokens "$tokens" --perturb-at "$value") ;;
      esac
      add_run "$lab" "$name" "${args[@]}" && return 0
    done
    die "20 draws of the run '$name' of lab $lab all fail a check of the solution (see $ref)"
  }
  printf '# Hidden runs drawn by scripts/grade.sh from --key %s: LAB<tab>NAME<tab>ARG...\n' "$key" > "$ref/runs.tsv"
  drawn 00 seed; drawn 01 seed; drawn 01 text; drawn 02 variant; drawn 02 sizes; drawn 03 seed; drawn 03 tokens
  echo "grade.sh: hidden runs drawn from --key $key (the same key draws the same runs): $ref/runs.tsv"
fi
hidden_count=$(grep -vc '^#' "$ref/runs.tsv" || true)

# --- One submission.
# grade_one SUBMISSION NAME RESULTS: its verdicts into RESULTS; prints labgrade's report there.
grade_one() {
  local submission="$1" name="$2" res="$3" src layout f status
  # Only what this function writes is removed: RESULTS may be a folder the instructor named.
  rm -rf "$res/outputs" "$res/cwd" "$res/report.txt" "$res/verdicts.json" "$res/feedback.txt" "$res/build.log" \
         "$res/notes.txt"
  mkdir -p "$res/outputs" "$res/cwd"
  if [ -d "$submission/src/minimodel" ]; then
    src="$submission/src/minimodel"; layout="a repository: src/minimodel/"
  elif [ -d "$submission/student/minimodel" ]; then
    src="$submission/student/minimodel"; layout="student/minimodel/"
  elif [ -d "$submission/minimodel" ]; then
    src="$submission/minimodel"; layout="minimodel/"
  else
    src="$submission"; layout="the piece files at its top"
  fi
  local taken=() absent=() refused=()
  for f in "${marked[@]}"; do
    local from="$src/$f" to="$work/student/minimodel/$f"
    if [ -L "$from" ]; then
      refused+=("$f (a symbolic link)"); from="$work/starter/minimodel/$f"
    elif [ -f "$from" ] && [ "$(stat -c %s "$from")" -gt $((1024 * 1024)) ]; then
      refused+=("$f (over 1 MiB)"); from="$work/starter/minimodel/$f"
    elif [ -f "$from" ] && [ -r "$from" ]; then
      taken+=("$f")
    else
      absent+=("$f"); from="$work/starter/minimodel/$f"
    fi
    # Copy only what changed: the build then recompiles only that (ninja compares times).
    cmp -s "$from" "$to" || cat "$from" > "$to"
  done
  {
    echo "graded from the submission ($layout): only the piece files, built into the course's labs"
    [ ${#taken[@]} -eq 0 ] || echo "taken: ${taken[*]}"
    [ ${#absent[@]} -eq 0 ] || echo "not in the submission, so the starter's copy was used: ${absent[*]}"
    [ ${#refused[@]} -eq 0 ] || echo "refused, so the starter's copy was used: ${refused[*]}"
  } > "$res/notes.txt"

  local common=(--hidden "$ref" --student "$name" --notes "$res/notes.txt" --json "$res/verdicts.json"
                --feedback "$res/feedback.txt")
  status=0
  (cd "$work/build" && timeout -k 10 "$build_timeout" cmake --build . --target "${lab_targets[@]}") \
    > "$res/build.raw.log" 2>&1 || status=$?
  # The log as the student knows the files: their pieces under src/minimodel/, this tree's files
  # relative to it.
  sed -e "s|$work/student/minimodel/|src/minimodel/|g" -e "s|$here/||g" "$res/build.raw.log" > "$res/build.log"
  rm -f "$res/build.raw.log"
  if [ $status -ne 0 ]; then
    [ $status -ne 124 ] && [ $status -ne 137 ] ||
      echo "grade.sh: the build did not finish within $build_timeout s and was stopped" >> "$res/build.log"
    graded=0
    "$labgrade" "$res/outputs" --build-failed "$res/build.log" "${common[@]}" "${labgrade_args[@]}" \
      > "$res/report.txt" || graded=$?
    [ $graded -le 1 ] || die "labgrade could not grade $name (exit $graded)"
    return 0
  fi

  # run_lab STEM BINARY ARGS...: one run into outputs/STEM.txt, with how it ended in STEM.status
  # when it did not end with exit status 0 or 1. Limits: the time, 16 MiB of output (SIGXFSZ
  # past it), 4 GiB of memory, no core file.
  run_lab() {
    local stem="$1" bin="$2" started=$SECONDS code=0
    shift 2
    ( cd "$res/cwd" && ulimit -f $((16 * 1024)) -c 0 -v $((4 * 1024 * 1024)) &&
      exec timeout -k 5 "$timeout_s" "$work/build/bin/$bin" "$@" ) \
      > "$res/outputs/$stem.txt" 2> "$res/outputs/$stem.stderr" 9>&- || code=$?
    if [ $code -eq 124 ] || { [ $code -eq 137 ] && [ $((SECONDS - started)) -ge "$timeout_s" ]; }; then
      echo "timeout $timeout_s" > "$res/outputs/$stem.status"
    elif [ $code -gt 128 ]; then
      echo "signal $((code - 128))" > "$res/outputs/$stem.status"
    elif [ $code -ge 2 ]; then
      echo "exit $code" > "$res/outputs/$stem.status"
    fi
    [ -s "$res/outputs/$stem.stderr" ] || rm -f "$res/outputs/$stem.stderr"
    if [ -f "$res/outputs/$stem.status" ] && grep -q '^timeout' "$res/outputs/$stem.status"; then return 1; fi
    return 0
  }
  local lab timed_out=()
  for lab in "${lab_folders[@]}"; do
    run_lab "lab${lab%%-*}" "lab$lab" || timed_out+=("${lab%%-*}")
  done
  local fields=()
  while IFS=$'\t' read -r -a fields || [ ${#fields[@]} -gt 0 ]; do
    if [ ${#fields[@]} -ge 2 ] && [ "${fields[0]:0:1}" != "#" ]; then
      local stem="lab${fields[0]}.${fields[1]}"
      if printf '%s\n' "${timed_out[@]}" | grep -qxF "${fields[0]}"; then
        # A lab that ran into the time limit once would again: not run, not waited for.
        echo "not-run this lab's default run was stopped after $timeout_s s" > "$res/outputs/$stem.status"
      else
        run_lab "$stem" "$(lab_binary "${fields[0]}")" "${fields[@]:2}" || true
      fi
    fi
    fields=()
  done < "$ref/runs.tsv"
  rm -rf "$res/cwd"
  graded=0
  "$labgrade" "$res/outputs" "${common[@]}" "${labgrade_args[@]}" > "$res/report.txt" || graded=$?
  [ $graded -le 1 ] || { cat "$res/report.txt" >&2; die "labgrade could not grade $name (exit $graded)"; }
  return 0
}

if [ "$mode" = build ]; then
  echo "grade.sh: building the pieces of $target with this tree's labs ($work/build), $hidden_count hidden runs"
  grade_one "$target" "$(basename "$target")" "$out"
  cat "$out/report.txt"
  [ -z "$json_copy" ] || cp "$out/verdicts.json" "$json_copy"
  echo
  echo "grade.sh: results in $out (report.txt, verdicts.json, feedback.txt, build.log, outputs/)"
  exit $graded
fi

# --- A class: one subfolder per student.
mkdir -p "$out/students" "$out/feedback"
count=0
for submission in "$target"/*; do
  name="$(basename "$submission")"
  if [ ! -d "$submission" ]; then
    echo "grade.sh: skipped $name: not a folder (unpack each submission into a folder named after the student)"
    continue
  fi
  [[ "$name" =~ ^[A-Za-z0-9._@+-]+$ ]] || { echo "grade.sh: skipped '$name': name it with letters, digits and ._@+- only"; continue; }
  started=$SECONDS
  grade_one "$submission" "$name" "$out/students/$name"
  cp "$out/students/$name/feedback.txt" "$out/feedback/$name.txt"
  echo "grade.sh: $name: $(grep '^overall:' "$out/students/$name/report.txt" | sed 's/^overall: //') ($((SECONDS - started)) s)"
  count=$((count + 1))
done
[ $count -gt 0 ] || die "'$target' holds no submission folder"
"$labgrade" --gradebook "$out/gradebook.csv" "$out/students" >/dev/null
echo "grade.sh: graded $count submissions: $out/gradebook.csv, and the feedback in $out/feedback/"
