#pragma once
// What labgrade prints and writes about a graded submission: the instructor's report (full, one
// line per lab, or one line per failing check), the JSON, the student's feedback file, and the
// class gradebook assembled from the JSON of every student.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "grade.hpp"

namespace labdiff {

struct Grading {
  std::string submission;  // the folder of outputs graded
  std::string student;     // who, for the feedback and the gradebook
  std::string reference;   // the folder of reference labs
  std::string hidden;      // the folder of the hidden runs' reference outputs ("" when none)
  Tolerance tolerance;
  bool checks_only = false;
  bool built = true;                       // false: the submission did not build
  std::vector<std::string> build_errors;   // its first errors, when it did not
  std::vector<std::string> notes;          // lines the grader adds (which files were taken)
  std::vector<UnrecognisedFile> unrecognised;
  std::string expected_names;              // the file names labgrade reads
  std::vector<LabVerdict> labs;

  std::size_t labs_passed() const;
  std::size_t checks_passed() const;
  std::size_t checks_total() const;
  bool passed() const { return labs_passed() == labs.size(); }
};

// "PASS", "NOT BUILT", ...
std::string upper(const std::string& status);

void print_report(const Grading& g);        // every check, every run
void print_brief(const Grading& g);         // one line per lab, then the overall line
void print_list_failing(const Grading& g);  // "labNN | check | reason", one line per check not passing
std::string to_json(const Grading& g);
std::string feedback_text(const Grading& g);  // for the student

// The class gradebook, CSV: one row per student (the subfolders of `results` holding a
// verdicts.json, in name order), one column per lab with the checks passed (the header says out
// of how many), the total, the labs passed and a one-line verdict. A subfolder without a
// verdicts.json gets a row saying so. std::runtime_error for an unreadable verdicts.json.
std::string gradebook_csv(const std::filesystem::path& results);

}  // namespace labdiff
