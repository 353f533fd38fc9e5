// labgrade: an instructor's verdict on a folder of a student's lab outputs, per lab and per
// check, against the reference outputs (labs/<NN>-<name>/expected.txt), under labdiff's rules.
// Prints the verdicts and, with --json, writes the same as JSON. Exit status 0 when every lab
// passes, 1 when one fails or is missing, 2 on a usage or I/O error.
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_support/command_line.hpp"
#include "files.hpp"
#include "grade.hpp"

namespace {

namespace fs = std::filesystem;

std::string upper(const std::string& status) {
  std::string s = status;
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  cli_support::CommandLine app{
      "labgrade: grade a folder of a student's lab outputs against the reference outputs.\n"
      "The folder holds one file per lab, lab00.txt ... lab03.txt (or the binaries' names,\n"
      "lab00-block-by-hand.txt ...): what each lab printed on stdout. A check passes when the\n"
      "student's line says PASS and matches the reference's line (words and integers exactly,\n"
      "decimals within abs + rel·|expected|); a lab passes when all its checks do. A missing\n"
      "file is graded 'missing'.\n\n"
      "  labgrade submissions/alice --json alice.json\n",
      cli_support::CommandLine::Checks::as_declared};
  std::string folder, json_path, labs_dir = MINIMODEL_LABS_DIR;
  labdiff::Tolerance tol;
  bool brief = false, list_failing = false;
  app.option("submission", folder, "the folder of the student's lab outputs").required();
  app.option("--labs", labs_dir, "the folder of the reference labs (NN-name/expected.txt)").show_default();
  app.option("--json", json_path, "also write the verdicts as JSON to this file");
  app.option("--abs", tol.abs, "absolute tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.option("--rel", tol.rel, "relative tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.flag("--brief", brief, "print only the failing checks and the verdicts");
  app.flag("--list-failing", list_failing,
           "print only 'labNN | check | reason' for every check that does not pass (CI compares it "
           "with a committed list)");
  if (const std::optional<int> status = app.parse(argc, argv)) return *status;

  try {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
      throw std::runtime_error(fmt::format("the submission folder '{}' does not exist or is not a folder", folder));
    }
    if (json_path.empty() && app.count("--json") > 0) throw std::runtime_error("--json: the path is empty");
    const std::vector<labdiff::ReferenceLab> labs = labdiff::find_reference_labs(labs_dir);
    // Read everything first: a bad file stops the run before any verdict is printed.
    std::vector<labdiff::LabVerdict> verdicts;
    for (const labdiff::ReferenceLab& lab : labs) {
      const std::optional<fs::path> file = labdiff::submission_file(folder, lab);
      const std::optional<std::string> actual = file ? std::optional<std::string>(labdiff::read_text_file(*file)) : std::nullopt;
      verdicts.push_back(labdiff::grade_lab(lab.id, lab.name, labdiff::read_text_file(lab.expected), actual,
                                            file ? file->filename().string() : "", tol));
    }

    if (list_failing) {
      bool all = true;
      for (const labdiff::LabVerdict& v : verdicts) {
        for (const labdiff::CheckVerdict& c : v.checks) {
          if (c.status != "pass") fmt::print("lab{} | {} | {}\n", v.id, c.name, c.reason);
        }
        for (const std::string& line : v.unexpected) fmt::print("lab{} | unexpected | {}\n", v.id, line);
        all = all && v.status == "pass";
      }
      return all ? 0 : 1;
    }
    fmt::print("labgrade: {} against the reference outputs in {}\n", folder, labs_dir);
    fmt::print("a check passes when the student's line says PASS and matches the reference's line\n");
    fmt::print("(words and integers exactly, decimals within {:g} + {:g}·|expected|)\n", tol.abs, tol.rel);
    std::size_t labs_passed = 0;
    nlohmann::json labs_json = nlohmann::json::array();
    for (const labdiff::LabVerdict& v : verdicts) {
      fmt::print("\nlab{} · {} · {}\n", v.id, v.name, v.file.empty() ? "no file" : v.file);
      nlohmann::json checks = nlohmann::json::array();
      for (const labdiff::CheckVerdict& c : v.checks) {
        if (!brief || c.status != "pass") {
          fmt::print("  [{}] {}{}\n", upper(c.status), c.name, c.reason.empty() ? "" : ": " + c.reason);
        }
        checks.push_back({{"name", c.name}, {"verdict", c.status}, {"reason", c.reason}});
      }
      for (const std::string& line : v.unexpected) fmt::print("  unexpected failing check: {}\n", line);
      for (const std::string& piece : v.not_implemented) fmt::print("  not implemented yet: {}\n", piece);
      if (v.status != "missing") {
        fmt::print("  whole output vs reference: {}\n",
                   v.differing_lines == 0 ? "matches" : fmt::format("{} line{} differ", v.differing_lines,
                                                                    v.differing_lines == 1 ? "" : "s"));
      }
      fmt::print("  verdict lab{}: {}, {} of {} checks pass\n", v.id, upper(v.status), v.passed, v.checks.size());
      if (v.status == "pass") ++labs_passed;
      labs_json.push_back({{"lab", v.id},
                           {"name", v.name},
                           {"file", v.file},
                           {"verdict", v.status},
                           {"checks_passed", v.passed},
                           {"checks_total", v.checks.size()},
                           {"checks", checks},
                           {"unexpected_failures", v.unexpected},
                           {"not_implemented", v.not_implemented},
                           {"differing_lines", v.differing_lines}});
    }
    const bool all = labs_passed == verdicts.size();
    fmt::print("\nsummary\n");
    for (const labdiff::LabVerdict& v : verdicts) {
      fmt::print("  lab{}  {:<8} {:>3} of {:>3} checks pass\n", v.id, upper(v.status), v.passed, v.checks.size());
    }
    fmt::print("overall: {}, {} of {} labs pass\n", all ? "PASS" : "FAIL", labs_passed, verdicts.size());
    if (!json_path.empty()) {
      const nlohmann::json doc = {{"submission", folder},
                                  {"reference", labs_dir},
                                  {"tolerance", {{"abs", tol.abs}, {"rel", tol.rel}}},
                                  {"labs", labs_json},
                                  {"labs_passed", labs_passed},
                                  {"labs_total", verdicts.size()},
                                  {"passed", all}};
      labdiff::write_file_atomically(json_path, doc.dump(2) + "\n");
    }
    return all ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "labgrade: error: {}\n", e.what());
    return 2;
  }
}
