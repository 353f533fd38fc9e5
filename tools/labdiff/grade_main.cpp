// labgrade: an instructor's verdict on a folder of a student's lab outputs, per lab and per
// check, against the reference outputs (labs/<NN>-<name>/expected.txt) and, for the hidden runs
// scripts/grade.sh made, against the solution's outputs for the same arguments, under labdiff's
// rules. Prints the verdicts; writes them as JSON (--json) and as the student's feedback
// (--feedback); assembles a class gradebook from the JSON of many students (--gradebook).
// Exit status 0 when every lab passes, 1 when one does not, 2 on a usage or I/O error.
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "cli_support/command_line.hpp"
#include "cli_support/files.hpp"
#include "files.hpp"
#include "grade.hpp"
#include "report.hpp"
#include "text.hpp"

namespace {

namespace fs = std::filesystem;

// The last `max_bytes` of a file (a run's stderr may be long; its end says why it stopped).
std::string read_tail(const fs::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - static_cast<std::streamoff>(max_bytes) : 0;
  in.seekg(start);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// What scripts/grade.sh recorded beside an output: how the run ended, and its stderr.
void read_run_record(const fs::path& folder, const std::string& stem, labdiff::RunInput& in) {
  std::error_code ec;
  const fs::path status = folder / (stem + ".status");
  if (fs::is_regular_file(status, ec)) in.end = labdiff::parse_run_end(read_tail(status, 256));
  const fs::path stderr_file = folder / (stem + ".stderr");
  if (in.end && fs::is_regular_file(stderr_file, ec)) in.stderr_text = read_tail(stderr_file, 16 * 1024);
}

// A submission's output file, read as untrusted text.
void read_output(const fs::path& path, labdiff::RunInput& in) {
  in.file = path.filename().string();
  labdiff::LabText text = labdiff::read_lab_output(path);
  if (text.problem) {
    in.unreadable = std::move(text.problem);
  } else {
    in.output = std::move(text.text);
  }
}

// A reference output: the workbook's or the solution's, so a problem with it is an error.
std::string read_reference(const fs::path& path) {
  labdiff::LabText text = labdiff::read_lab_output(path);
  if (text.problem) throw std::runtime_error(fmt::format("the reference output '{}': {}", path.string(), *text.problem));
  return text.text;
}

std::vector<std::string> read_notes(const std::string& path) {
  if (path.empty()) return {};
  std::vector<std::string> notes;
  for (const std::string& line : labdiff::split_lines(labdiff::read_text_file(path))) {
    if (!line.empty()) notes.push_back(line);
  }
  return notes;
}

}  // namespace

int main(int argc, char** argv) {
  cli_support::CommandLine app{
      "labgrade: grade a folder of a student's lab outputs against the reference outputs.\n"
      "The folder holds one file per lab, lab00.txt ... lab03.txt (or the binaries' names,\n"
      "lab00-block-by-hand.txt ...): what each lab printed on stdout. A check passes when the\n"
      "student's line says PASS and matches the reference's line (words and integers exactly,\n"
      "decimals within abs + rel·|expected|); a lab passes when all its checks do and its whole\n"
      "output matches the reference (--checks-only: the checks alone decide). A missing file is\n"
      "graded 'missing'; a file that is not a lab output (binary, not UTF-8, over 8 MiB)\n"
      "'unreadable'. scripts/grade.sh builds a student's code and runs the labs for it, also\n"
      "on hidden inputs (--hidden), and grades a whole class.\n\n"
      "  labgrade submissions/alice --json alice.json\n"
      "  labgrade outputs/ --hidden reference/ --student alice --feedback alice.txt\n"
      "  labgrade --gradebook gradebook.csv results/\n",
      cli_support::CommandLine::Checks::as_declared};
  std::string folder, json_path, feedback_path, student, notes_path, hidden_dir, build_log, gradebook,
      labs_dir = MINIMODEL_LABS_DIR;
  labdiff::GradeOptions options;
  bool brief = false, list_failing = false;
  app.option("submission", folder,
             "the folder of the student's lab outputs (with --gradebook: the folder of graded students)")
      .required();
  app.option("--labs", labs_dir, "the folder of the reference labs (NN-name/expected.txt)").show_default();
  app.option("--hidden", hidden_dir,
             "the folder of the hidden runs: runs.tsv and the solution's outputs labNN.RUN.txt (scripts/grade.sh)")
      .type_name("DIR");
  app.option("--json", json_path, "also write the verdicts as JSON to this file");
  app.option("--feedback", feedback_path, "also write the student's feedback (failing checks, details) to this file");
  app.option("--student", student, "the student's name in the feedback and the JSON (default: the folder's name)");
  app.option("--notes", notes_path, "a file of lines to print in the report and the feedback (which files were graded)");
  app.option("--build-failed", build_log,
             "the submission did not build: every lab is 'not built', with the first errors of this build log")
      .type_name("LOG");
  app.option("--abs", options.tolerance.abs, "absolute tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.option("--rel", options.tolerance.rel, "relative tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.flag("--checks-only", options.checks_only,
           "grade the checks only: a lab whose checks pass but whose output differs from the reference passes");
  app.flag("--brief", brief, "print one line per lab and the overall verdict");
  app.flag("--list-failing", list_failing,
           "print only 'labNN | check | reason' for every check that does not pass (CI compares it "
           "with a committed list)");
  app.option("--gradebook", gradebook,
             "write the class gradebook (CSV) from SUBMISSION/<student>/verdicts.json, and nothing else")
      .type_name("CSV");
  if (const std::optional<int> status = app.parse(argc, argv)) return *status;

  try {
    if (!gradebook.empty()) {
      const std::string csv = labdiff::gradebook_csv(folder);
      cli_support::write_file_atomically(gradebook, csv);
      fmt::print("labgrade: wrote {} ({} students)\n", gradebook, labdiff::split_lines(csv).size() - 1);
      return 0;
    }
    std::error_code ec;
    const bool folder_exists = fs::is_directory(folder, ec);
    if (!folder_exists && build_log.empty()) {
      throw std::runtime_error(fmt::format("the submission folder '{}' does not exist or is not a folder", folder));
    }
    for (const auto& [flag, value] : {std::pair{"--json", &json_path}, {"--feedback", &feedback_path}}) {
      if (value->empty() && app.count(flag) > 0) throw std::runtime_error(fmt::format("{}: the path is empty", flag));
    }

    labdiff::Grading g;
    g.submission = folder;
    g.student = student.empty() ? fs::path(folder).lexically_normal().filename().string() : student;
    if (g.student.empty()) g.student = fs::absolute(folder).parent_path().filename().string();
    g.reference = labs_dir;
    g.hidden = hidden_dir;
    g.tolerance = options.tolerance;
    g.checks_only = options.checks_only;
    g.notes = read_notes(notes_path);
    const std::vector<labdiff::ReferenceLab> labs = labdiff::find_reference_labs(labs_dir);
    g.expected_names = labdiff::expected_names(labs);
    std::vector<labdiff::RunSpec> hidden;
    if (!hidden_dir.empty()) {
      hidden = labdiff::parse_runs(labdiff::read_text_file(fs::path(hidden_dir) / "runs.tsv"));
      for (const labdiff::RunSpec& run : hidden) {
        if (std::none_of(labs.begin(), labs.end(), [&](const labdiff::ReferenceLab& l) { return l.id == run.lab; })) {
          throw std::runtime_error(fmt::format("runs.tsv names lab {}, which {} does not have", run.lab, labs_dir));
        }
      }
    }
    std::optional<std::string> not_built;
    if (!build_log.empty()) {
      g.built = false;
      g.build_errors = labdiff::first_build_errors(labdiff::read_text_file(build_log));
      not_built = g.build_errors.empty() ? "the submission does not build" : g.build_errors.front();
    }
    if (folder_exists) g.unrecognised = labdiff::unrecognised_files(folder, labs, hidden);

    // Read everything first: an I/O error stops the run before any verdict is printed.
    for (const labdiff::ReferenceLab& lab : labs) {
      std::vector<labdiff::RunVerdict> runs;
      labdiff::RunInput in;
      in.spec = {lab.id, "", {}};
      in.reference = read_reference(lab.expected);
      in.not_built = not_built;
      if (folder_exists && !not_built) {
        if (const std::optional<fs::path> file = labdiff::submission_file(folder, lab)) read_output(*file, in);
        read_run_record(folder, "lab" + lab.id, in);
      }
      runs.push_back(labdiff::grade_run(in, options));
      for (const labdiff::RunSpec& spec : hidden) {
        if (spec.lab != lab.id) continue;
        const std::string stem = fmt::format("lab{}.{}", spec.lab, spec.name);
        labdiff::RunInput run;
        run.spec = spec;
        run.reference = read_reference(fs::path(hidden_dir) / (stem + ".txt"));
        run.not_built = not_built;
        if (folder_exists && !not_built) {
          if (fs::exists(fs::path(folder) / (stem + ".txt"), ec)) read_output(fs::path(folder) / (stem + ".txt"), run);
          read_run_record(folder, stem, run);
        }
        runs.push_back(labdiff::grade_run(run, options));
      }
      g.labs.push_back(labdiff::combine_runs(lab.id, lab.name, std::move(runs)));
    }

    if (list_failing) {
      labdiff::print_list_failing(g);
    } else if (brief) {
      labdiff::print_brief(g);
    } else {
      labdiff::print_report(g);
    }
    if (!json_path.empty()) cli_support::write_file_atomically(json_path, labdiff::to_json(g));
    if (!feedback_path.empty()) cli_support::write_file_atomically(feedback_path, labdiff::feedback_text(g));
    return g.passed() ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "labgrade: error: {}\n", e.what());
    return 2;
  }
}
