#pragma once
// Grading a student's lab outputs against the reference outputs (labgrade, README "For
// instructors"). A lab's checks are its "[PASS] name: detail" / "[FAIL] name: detail" lines; the
// name is the text up to the first ": ". A reference check passes in the student's output when
// the student's line of the same name says PASS and matches the reference line under labdiff's
// rules (words and integers exactly, decimals within the tolerance), so a PASS printed next to
// wrong numbers does not count.
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

struct CheckVerdict {
  std::string name;
  std::string status;  // "pass", "fail" or "missing" (no line of that name in the output)
  std::string reason;  // empty for a pass
};

struct LabVerdict {
  std::string id;                      // "00"
  std::string name;                    // "00-block-by-hand" (the lab's folder)
  std::string file;                    // the submission file read, "" when missing
  std::string status;                  // "pass", "fail" or "missing"
  std::vector<CheckVerdict> checks;    // the reference's checks, in its order
  std::vector<std::string> unexpected; // failing check lines the reference does not have
  std::vector<std::string> not_implemented;
  std::size_t passed = 0;
  std::size_t differing_lines = 0;     // whole output vs reference, under labdiff's rules
};

// Grades one lab's output (nothing: the submission has no file for it) against its reference.
LabVerdict grade_lab(std::string_view id, std::string_view name, std::string_view expected,
                     const std::optional<std::string>& actual, std::string_view file,
                     const Tolerance& tolerance);

// A lab of the reference: labs/<NN>-<name>/expected.txt.
struct ReferenceLab {
  std::string id, name;
  std::filesystem::path expected;
};
// Every lab folder of `labs_dir` that holds an expected.txt, in order. Throws std::runtime_error
// when there is none.
std::vector<ReferenceLab> find_reference_labs(const std::filesystem::path& labs_dir);

// The submission's file for a lab: "lab<NN>.txt" or "lab<NN>-<name>.txt" (the binary's name).
// Nothing when neither exists; throws std::runtime_error when both do.
std::optional<std::filesystem::path> submission_file(const std::filesystem::path& folder,
                                                     const ReferenceLab& lab);

}  // namespace labdiff
