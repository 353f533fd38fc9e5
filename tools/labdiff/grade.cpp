#include "grade.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace labdiff {

namespace {

constexpr std::string_view kPass = "[PASS] ", kFail = "[FAIL] ";
constexpr std::string_view kNotImplemented = "not implemented yet: ";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The line of a student's check, if any, that the reference's check `name` corresponds to.
const CheckLine* find_check(const std::vector<CheckLine>& checks, const std::string& name) {
  const auto found = std::find_if(checks.begin(), checks.end(), [&](const CheckLine& c) { return c.name == name; });
  return found == checks.end() ? nullptr : &*found;
}

}  // namespace

std::vector<CheckLine> parse_checks(std::string_view output) {
  std::vector<CheckLine> checks;
  const std::vector<std::string> lines = split_lines(output);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const bool pass = starts_with(line, kPass);
    if (!pass && !starts_with(line, kFail)) continue;
    const std::string rest = line.substr(kPass.size());
    const std::size_t colon = rest.find(": ");
    checks.push_back({colon == std::string::npos ? rest : rest.substr(0, colon), pass, line, i + 1});
  }
  return checks;
}

std::vector<std::string> not_implemented_pieces(std::string_view output) {
  std::vector<std::string> pieces;
  for (const std::string& line : split_lines(output)) {
    if (!starts_with(line, kNotImplemented)) continue;
    const std::string piece = line.substr(kNotImplemented.size());
    if (std::find(pieces.begin(), pieces.end(), piece) == pieces.end()) pieces.push_back(piece);
  }
  return pieces;
}

LabVerdict grade_lab(std::string_view id, std::string_view name, std::string_view expected,
                     const std::optional<std::string>& actual, std::string_view file,
                     const Tolerance& tolerance) {
  LabVerdict verdict{std::string(id), std::string(name), std::string(file), "missing", {}, {}, {}, 0, 0};
  const std::vector<CheckLine> reference = parse_checks(expected);
  if (reference.empty()) {
    throw std::runtime_error(fmt::format("the reference output of lab {} has no [PASS] or [FAIL] line", id));
  }
  if (!actual) {
    for (const CheckLine& r : reference) verdict.checks.push_back({r.name, "missing", "no output for this lab"});
    return verdict;
  }
  const std::vector<CheckLine> student = parse_checks(*actual);
  for (const CheckLine& r : reference) {
    const CheckLine* s = find_check(student, r.name);
    CheckVerdict check{r.name, "pass", ""};
    if (s == nullptr) {
      check = {r.name, "missing", "the output has no check of this name"};
    } else if (!s->passed) {
      const std::size_t colon = s->line.find(": ");
      check = {r.name, "fail",
               fmt::format("the lab says FAIL{}", colon == std::string::npos ? "" : ": " + s->line.substr(colon + 2))};
    } else if (const std::optional<std::string> why = compare_lines(r.line, s->line, tolerance)) {
      check = {r.name, "fail", fmt::format("PASS, but not the reference's result (line {}: {})", s->number, *why)};
    }
    if (check.status == "pass") ++verdict.passed;
    verdict.checks.push_back(std::move(check));
  }
  for (const CheckLine& s : student) {
    if (!s.passed && find_check(reference, s.name) == nullptr) verdict.unexpected.push_back(s.line);
  }
  verdict.not_implemented = not_implemented_pieces(*actual);
  verdict.differing_lines = compare_outputs(expected, *actual, tolerance).differences.size();
  const bool all = verdict.passed == reference.size() && verdict.unexpected.empty();
  verdict.status = all ? "pass" : "fail";
  return verdict;
}

namespace {

// "NN-name": two digits, a dash, then at least one letter, digit or dash. Checked by hand:
// std::regex would add seconds to the build for this one test.
bool is_lab_folder_name(const std::string& name) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto is_name_char = [&](char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  };
  return name.size() > 3 && is_digit(name[0]) && is_digit(name[1]) && name[2] == '-' &&
         std::all_of(name.begin() + 3, name.end(), is_name_char);
}

}  // namespace

std::vector<ReferenceLab> find_reference_labs(const std::filesystem::path& labs_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(labs_dir, ec)) {
    throw std::runtime_error(fmt::format("the reference labs folder '{}' does not exist", labs_dir.string()));
  }
  std::vector<ReferenceLab> labs;
  for (const fs::directory_entry& entry : fs::directory_iterator(labs_dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !is_lab_folder_name(name)) continue;
    const fs::path expected = entry.path() / "expected.txt";
    if (fs::is_regular_file(expected, ec)) labs.push_back({name.substr(0, 2), name, expected});
  }
  std::sort(labs.begin(), labs.end(), [](const ReferenceLab& a, const ReferenceLab& b) { return a.name < b.name; });
  if (labs.empty()) {
    throw std::runtime_error(fmt::format("'{}' holds no lab folder with an expected.txt (NN-name/expected.txt)",
                                         labs_dir.string()));
  }
  return labs;
}

std::optional<std::filesystem::path> submission_file(const std::filesystem::path& folder, const ReferenceLab& lab) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path short_name = folder / fmt::format("lab{}.txt", lab.id);
  const fs::path long_name = folder / fmt::format("lab{}.txt", lab.name);
  const bool has_short = fs::exists(short_name, ec), has_long = fs::exists(long_name, ec);
  if (has_short && has_long) {
    throw std::runtime_error(fmt::format("both {} and {} exist: keep one output per lab",
                                         short_name.string(), long_name.string()));
  }
  if (has_short) return short_name;
  if (has_long) return long_name;
  return std::nullopt;
}

}  // namespace labdiff
