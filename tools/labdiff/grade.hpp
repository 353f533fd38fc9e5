#pragma once
// Grading a student's lab outputs against reference outputs (labgrade, scripts/grade.sh,
// docs/grading.md). A lab's checks are its "[PASS] name: detail" / "[FAIL] name: detail"
// lines; the name is the text up to the first ": ". A reference check passes in the student's
// output when the student's line of the same name says PASS and matches the reference line under
// labdiff's rules (words and integers exactly, decimals within the tolerance), so a PASS printed
// next to wrong numbers does not count.
//
// A lab is graded on one or more runs: its default run (labNN.txt, against
// labs/NN-name/expected.txt) and, when the grader built the student's code, hidden runs with
// arguments the handout never shows (labNN.RUN.txt, against what the instructor's own solution
// printed for the same arguments). A lab passes when every run passes.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compare.hpp"

namespace labdiff {

// One "[PASS] ..." or "[FAIL] ..." line of a lab output.
struct CheckLine {
  std::string name;    // up to the first ": "
  bool passed = false;
  std::string line;    // the whole line
  std::size_t number;  // 1-based line number
};

std::vector<CheckLine> parse_checks(std::string_view output);

// "not implemented yet: <what>, see <where>" lines, each piece once, in order of appearance.
std::vector<std::string> not_implemented_pieces(std::string_view output);

// A run of a lab: the default one (name "") or a hidden one, with its arguments.
struct RunSpec {
  std::string lab;                 // "02"
  std::string name;                // "variant"; "" for the default run
  std::vector<std::string> args;   // {"--vocab-size", "512", "--norm", "rmsnorm", "--no-biases"}
};
// The hidden runs file (runs.tsv, written by scripts/grade.sh): one run per line,
//   LAB <tab> NAME <tab> ARG <tab> ARG ...
// LAB two digits, NAME of [a-z0-9-], each argument one field (so a --text sentence needs no
// quoting); blank lines and lines starting with '#' are skipped. std::runtime_error names the
// line of a malformed entry or a repeated LAB NAME.
std::vector<RunSpec> parse_runs(std::string_view text);
// The arguments as a shell would need them typed: --text '<bos> I work'.
std::string shell_words(const std::vector<std::string>& args);

// How a run ended when it did not end normally (exit status 0 or 1), as scripts/grade.sh records
// it in labNN[.RUN].status: "timeout SECONDS", "signal NUMBER", "exit STATUS" (2 or more), or
// "not-run REASON". Nothing when the text is none of these (a status file is only ever read to
// fail a run, so an unreadable one is ignored).
struct RunEnd {
  enum class Kind { timeout, signal, error, not_run };
  Kind kind;
  long value = 0;      // seconds, signal number or exit status
  std::string reason;  // not_run
};
std::optional<RunEnd> parse_run_end(std::string_view text);
// "stopped after 20 s (the time limit): an endless loop?", "killed by signal 11 (SIGSEGV)", ...
std::string describe(const RunEnd& end);

struct CheckVerdict {
  std::string name;
  std::string status;  // "pass", "fail" or "missing" (no line of that name in the output)
  std::string reason;  // empty for a pass
};

// A run's verdict, worst first:
//   "not built"   the submission did not compile, so nothing ran;
//   "timeout"     stopped after the time limit;
//   "crashed"     killed by a signal, or ended with an error (exit status 2 or more);
//   "not run"     not run at all (the lab's default run had already run into the time limit);
//   "unreadable"  the file is not a lab output (binary, not UTF-8, too large: text.hpp);
//   "missing"     no output file;
//   "fail"        a check fails, or the output has a [FAIL] line the reference does not;
//   "differs"     every check passes, but the output differs from the reference (labdiff's
//                 rules) at `differing_lines` lines: a wrong number the checks do not cover;
//                 graded "pass" when the instructor asks for checks only;
//   "pass".
struct RunVerdict {
  RunSpec spec;
  std::string file;                    // the submission file read, "" when missing
  std::string status;
  std::string problem;                 // what happened, for not built .. unreadable
  std::vector<CheckVerdict> checks;    // the reference's checks, in its order
  std::vector<std::string> unexpected; // failing check lines the reference does not have
  std::vector<std::string> not_implemented;
  std::size_t passed = 0;
  std::size_t differing_lines = 0;     // whole output vs reference, under labdiff's rules
  std::vector<Difference> first_differences;  // the first few of them
  std::string stderr_tail;             // the last lines the run wrote on stderr, when it crashed
};

struct GradeOptions {
  Tolerance tolerance;
  bool checks_only = false;  // "differs" counts as a pass
};

// What grade_run is given for one run. `reference` is the reference output's text.
struct RunInput {
  RunSpec spec;
  std::string reference;
  std::string file;                       // the submission's file name, "" when there is none
  std::optional<std::string> output;      // its text, when it is a lab output
  std::optional<std::string> unreadable;  // why it is not one (text.hpp)
  std::optional<RunEnd> end;              // how the run ended, when not normally
  std::string stderr_text;
  std::optional<std::string> not_built;   // the submission did not build: why, in one line
};
RunVerdict grade_run(const RunInput& input, const GradeOptions& options);

struct LabVerdict {
  std::string id;                      // "00"
  std::string name;                    // "00-block-by-hand" (the lab's folder)
  std::string status;                  // the worst of its runs' statuses (see RunVerdict)
  std::vector<RunVerdict> runs;        // the default run first, then the hidden ones
  std::size_t passed = 0, total = 0;   // checks, over all its runs
};
LabVerdict combine_runs(std::string id, std::string name, std::vector<RunVerdict> runs);
// Whether a status passes: "pass" only ("differs" already became "pass" under checks_only).
inline bool passes(const std::string& status) { return status == "pass"; }

// A lab of the reference: labs/<NN>-<name>/expected.txt.
struct ReferenceLab {
  std::string id, name;
  std::filesystem::path expected;
};
// Every lab folder of `labs_dir` that holds an expected.txt, in order. Throws std::runtime_error
// when there is none.
std::vector<ReferenceLab> find_reference_labs(const std::filesystem::path& labs_dir);

// The submission's file for a lab's default run: "lab<NN>.txt" or "lab<NN>-<name>.txt" (the
// binary's name). Nothing when neither exists; throws std::runtime_error when both do.
std::optional<std::filesystem::path> submission_file(const std::filesystem::path& folder,
                                                     const ReferenceLab& lab);

// Files of the submission folder that labgrade does not read, each with the name it probably
// meant ("lab0.txt" -> "lab00.txt", "Lab01.txt" -> "lab01.txt"; "" when there is no guess).
// Read: labNN.txt, labNN-<name>.txt, labNN.RUN.txt for the hidden runs, and the .status and
// .stderr files scripts/grade.sh writes beside them.
struct UnrecognisedFile {
  std::string name;
  std::string suggestion;
};
std::vector<UnrecognisedFile> unrecognised_files(const std::filesystem::path& folder,
                                                 const std::vector<ReferenceLab>& labs,
                                                 const std::vector<RunSpec>& hidden_runs);
// "lab00.txt, lab01.txt, lab02.txt, lab03.txt (or lab00-block-by-hand.txt, ...)"
std::string expected_names(const std::vector<ReferenceLab>& labs);

// The first errors of a failed build log: each error line of the compiler or the linker
// ("file:line:col: error: ...", "fatal error", "undefined reference") with the lines of context
// the compiler printed under it, at most `max_errors` of them. When the log has no such line (a
// build stopped by the time limit, a failed configure), its last lines.
std::vector<std::string> first_build_errors(std::string_view log, std::size_t max_errors = 3);

}  // namespace labdiff
