// Fuzz target: labgrade's parsers and reports on arbitrary bytes (docs/grading.md:
// submissions are untrusted text).
//
// The input is a REFERENCE output and a student's OUTPUT, split at its first NUL byte (without
// one, at its middle). The contract under test:
//   - parse_checks, not_implemented_pieces, parse_run_end (and describe), first_build_errors
//     and shell_words accept anything; parse_runs either parses or throws std::runtime_error;
//   - grade_run on any pair either grades, with one verdict per check of the reference and at
//     most that many passing, or throws std::runtime_error because the reference has no check;
//   - the report, the JSON and the feedback of any grading are produced without an exception
//     (the JSON replaces what is not UTF-8).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "grade.hpp"
#include "report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::size_t cut = nul == std::string_view::npos ? size / 2 : nul;
  const std::string reference(input.substr(0, cut));
  const std::string output(input.substr(nul == std::string_view::npos ? cut : cut + 1));

  (void)labdiff::parse_checks(input);
  (void)labdiff::not_implemented_pieces(input);
  if (const std::optional<labdiff::RunEnd> end = labdiff::parse_run_end(input)) (void)labdiff::describe(*end);
  (void)labdiff::first_build_errors(input);
  (void)labdiff::shell_words(labdiff::split_lines(input));
  try {
    (void)labdiff::parse_runs(input);
  } catch (const std::runtime_error&) {
  }

  labdiff::RunInput run;
  run.spec = {"00", "", {}};
  run.reference = reference;
  run.file = "lab00.txt";
  run.output = output;
  run.end = labdiff::parse_run_end(output.substr(0, 24));
  run.stderr_text = output;
  labdiff::RunVerdict verdict;
  try {
    verdict = labdiff::grade_run(run, labdiff::GradeOptions{});
  } catch (const std::runtime_error&) {
    return 0;  // a reference without a check
  }
  if (verdict.checks.size() != labdiff::parse_checks(reference).size() || verdict.passed > verdict.checks.size()) {
    std::abort();
  }
  labdiff::Grading g;
  g.submission = g.student = output.substr(0, 16);
  g.reference = "labs";
  g.notes = {output.substr(0, 32)};
  g.build_errors = labdiff::first_build_errors(output);
  g.labs.push_back(labdiff::combine_runs("00", "00-fuzz", {verdict}));
  (void)labdiff::to_json(g);
  (void)labdiff::feedback_text(g);
  return 0;
}
