#include "grade.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>
#include <set>
#include <stdexcept>

#include "text.hpp"

namespace labdiff {

namespace {

constexpr std::string_view kPass = "[PASS] ", kFail = "[FAIL] ";
constexpr std::string_view kNotImplemented = "not implemented yet: ";
// How many differences a run keeps to show (the count is kept in full).
constexpr std::size_t kDifferencesKept = 3;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The line of a student's check, if any, that the reference's check `name` corresponds to.
const CheckLine* find_check(const std::vector<CheckLine>& checks, const std::string& name) {
  const auto found = std::find_if(checks.begin(), checks.end(), [&](const CheckLine& c) { return c.name == name; });
  return found == checks.end() ? nullptr : &*found;
}

std::vector<std::string> split_fields(std::string_view line, char separator) {
  std::vector<std::string> fields;
  while (true) {
    const std::size_t at = line.find(separator);
    fields.emplace_back(line.substr(0, at));
    if (at == std::string_view::npos) break;
    line.remove_prefix(at + 1);
  }
  return fields;
}

// The verdict of a run that did not end normally.
std::string status_of(const RunEnd& end) {
  switch (end.kind) {
    case RunEnd::Kind::timeout: return "timeout";
    case RunEnd::Kind::not_run: return "not run";
    default: return "crashed";
  }
}

bool whole_number(std::string_view text, long& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
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

std::vector<RunSpec> parse_runs(std::string_view text) {
  std::vector<RunSpec> runs;
  const std::vector<std::string> lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> fields = split_fields(line, '\t');
    const auto fail = [&](const std::string& what) {
      throw std::runtime_error(fmt::format("runs file, line {}: {} (a line is LAB<tab>NAME<tab>ARG<tab>ARG...)",
                                           i + 1, what));
    };
    if (fields.size() < 2) fail("no tab-separated NAME");
    const std::string& lab = fields[0];
    if (lab.size() != 2 || !is_digit(lab[0]) || !is_digit(lab[1])) fail(fmt::format("'{}' is not a lab number like 02", printable(lab, 40)));
    const std::string& name = fields[1];
    const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-';
    });
    if (!name_ok) fail(fmt::format("'{}' is not a run name (a-z, 0-9, '-')", printable(name, 40)));
    for (const RunSpec& r : runs) {
      if (r.lab == lab && r.name == name) fail(fmt::format("lab {} has two runs named '{}'", lab, name));
    }
    runs.push_back({lab, name, std::vector<std::string>(fields.begin() + 2, fields.end())});
  }
  return runs;
}

std::string shell_words(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::string_view("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,=/:+").find(c) !=
             std::string_view::npos;
    });
    std::string word = a;
    if (!plain) {
      word = "'";
      for (const char c : a) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
      word += "'";
    }
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

std::optional<RunEnd> parse_run_end(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view word = text.substr(0, space), rest = text.substr(space + 1);
  if (word == "not-run") {
    if (rest.empty() || text_problem(rest) || rest.find('\n') != std::string_view::npos) return std::nullopt;
    return RunEnd{RunEnd::Kind::not_run, 0, std::string(rest.substr(0, 200))};
  }
  long value = 0;
  if (!whole_number(rest, value) || value < 0) return std::nullopt;
  if (word == "timeout") return RunEnd{RunEnd::Kind::timeout, value, ""};
  if (word == "signal" && value > 0) return RunEnd{RunEnd::Kind::signal, value, ""};
  if (word == "exit" && value >= 2) return RunEnd{RunEnd::Kind::error, value, ""};
  return std::nullopt;
}

std::string describe(const RunEnd& end) {
  switch (end.kind) {
    case RunEnd::Kind::timeout:
      return fmt::format("stopped after {} s, the time limit (the labs take well under a second): an endless loop?",
                         end.value);
    case RunEnd::Kind::signal: {
      // The signals a lab can die of, with what usually causes each.
      struct Known {
        long number;
        const char* name;
        const char* hint;
      };
      static constexpr std::array<Known, 10> known{{
          {4, "SIGILL", "an illegal instruction"},
          {6, "SIGABRT", "an assertion, or an exception nothing caught?"},
          {7, "SIGBUS", "a bad memory access?"},
          {8, "SIGFPE", "an integer division by zero?"},
          {9, "SIGKILL", "out of memory?"},
          {11, "SIGSEGV", "an index out of bounds, or a dangling pointer?"},
          {13, "SIGPIPE", "its output was cut"},
          {15, "SIGTERM", "stopped from outside"},
          {24, "SIGXCPU", "the CPU time limit"},
          {25, "SIGXFSZ", "its output passed the grader's size limit: an endless print?"},
      }};
      for (const Known& k : known) {
        if (k.number == end.value) return fmt::format("crashed: killed by signal {} ({}: {})", k.number, k.name, k.hint);
      }
      return fmt::format("crashed: killed by signal {}", end.value);
    }
    case RunEnd::Kind::error:
      // labs/common/lab.cpp turns a crash inside a piece into exit status 3 and a message on
      // stderr naming the section; 2 is an error the lab reports (bad input, an exception).
      if (end.value == 3) {
        return "crashed: a piece read or wrote memory it does not own (exit status 3; the lab names the section "
               "on stderr)";
      }
      return fmt::format("stopped with an error (exit status {}; a lab exits 1 when a check fails)", end.value);
    case RunEnd::Kind::not_run:
      return "not run: " + end.reason;
  }
  return "";
}

RunVerdict grade_run(const RunInput& in, const GradeOptions& options) {
  RunVerdict v;
  v.spec = in.spec;
  v.file = in.file;
  const std::vector<CheckLine> reference = parse_checks(in.reference);
  if (reference.empty()) {
    throw std::runtime_error(fmt::format("the reference output of lab {}{} has no [PASS] or [FAIL] line", in.spec.lab,
                                         in.spec.name.empty() ? "" : ", run " + in.spec.name));
  }
  // No output to grade: every check of the reference is missing, for the reason given.
  const auto none = [&](const std::string& status, const std::string& problem, const std::string& reason) {
    v.status = status;
    v.problem = problem;
    for (const CheckLine& r : reference) v.checks.push_back({r.name, "missing", reason});
    return v;
  };
  if (in.not_built) return none("not built", *in.not_built, "the submission did not build");
  if (in.unreadable) return none("unreadable", *in.unreadable, "the output is not a lab output");
  if (!in.output) {
    if (in.end) return none(status_of(*in.end), describe(*in.end), "no output");
    return none("missing", "no output file", "no output for this lab");
  }

  const std::vector<CheckLine> student = parse_checks(*in.output);
  for (const CheckLine& r : reference) {
    const CheckLine* s = find_check(student, r.name);
    CheckVerdict check{r.name, "pass", ""};
    if (s == nullptr) {
      check = {r.name, "missing", "the output has no check of this name"};
    } else if (!s->passed) {
      const std::size_t colon = s->line.find(": ");
      check = {r.name, "fail",
               fmt::format("the lab says FAIL{}", colon == std::string::npos ? "" : ": " + s->line.substr(colon + 2))};
    } else if (const std::optional<std::string> why = compare_lines(r.line, s->line, options.tolerance)) {
      check = {r.name, "fail", fmt::format("PASS, but not the reference's result (line {}: {})", s->number, *why)};
    }
    if (check.status == "pass") ++v.passed;
    v.checks.push_back(std::move(check));
  }
  for (const CheckLine& s : student) {
    if (!s.passed && find_check(reference, s.name) == nullptr) v.unexpected.push_back(s.line);
  }
  v.not_implemented = not_implemented_pieces(*in.output);
  Comparison whole = compare_outputs(in.reference, *in.output, options.tolerance);
  v.differing_lines = whole.differences.size();
  if (whole.differences.size() > kDifferencesKept) whole.differences.resize(kDifferencesKept);
  v.first_differences = std::move(whole.differences);

  const bool checks_pass = v.passed == reference.size() && v.unexpected.empty();
  v.status = !checks_pass ? "fail" : (v.differing_lines > 0 && !options.checks_only) ? "differs" : "pass";
  if (v.status == "differs") {
    v.problem = fmt::format("checks pass, but the output differs from the reference at {} line{}", v.differing_lines,
                            v.differing_lines == 1 ? "" : "s");
  }
  // A run that did not end normally fails whatever it printed before (its checks still count).
  if (in.end) {
    v.status = status_of(*in.end);
    v.problem = describe(*in.end);
  }
  if (in.end && in.end->kind != RunEnd::Kind::timeout) {
    const std::vector<std::string> lines = split_lines(in.stderr_text);
    for (std::size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i) {
      v.stderr_tail += printable(lines[i]) + "\n";
    }
  }
  return v;
}

LabVerdict combine_runs(std::string id, std::string name, std::vector<RunVerdict> runs) {
  static const std::array<std::string_view, 9> worst_first{"not built", "timeout", "crashed", "not run", "unreadable",
                                                           "missing",   "fail",    "differs", "pass"};
  const auto rank = [](const std::string& status) {
    return static_cast<std::size_t>(std::find(worst_first.begin(), worst_first.end(), status) - worst_first.begin());
  };
  LabVerdict lab{std::move(id), std::move(name), "pass", std::move(runs), 0, 0};
  for (const RunVerdict& r : lab.runs) {
    if (rank(r.status) < rank(lab.status)) lab.status = r.status;
    lab.passed += r.passed;
    lab.total += r.checks.size();
  }
  return lab;
}

namespace {

// "NN-name": two digits, a dash, then at least one letter, digit or dash. Checked by hand:
// std::regex would add seconds to the build for this one test.
bool is_lab_folder_name(const std::string& name) {
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

std::vector<UnrecognisedFile> unrecognised_files(const std::filesystem::path& folder,
                                                 const std::vector<ReferenceLab>& labs,
                                                 const std::vector<RunSpec>& hidden_runs) {
  namespace fs = std::filesystem;
  std::set<std::string> known;
  for (const ReferenceLab& lab : labs) {
    for (const std::string& stem : {"lab" + lab.id, "lab" + lab.name}) {
      for (const char* suffix : {".txt", ".status", ".stderr"}) known.insert(stem + suffix);
    }
  }
  for (const RunSpec& run : hidden_runs) {
    for (const char* suffix : {".txt", ".status", ".stderr"}) known.insert(fmt::format("lab{}.{}{}", run.lab, run.name, suffix));
  }
  std::vector<UnrecognisedFile> found;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (known.count(name) > 0) continue;
    UnrecognisedFile file{printable(name, 80) + (it->is_directory(ec) ? "/" : ""), ""};
    // "Lab01.txt", "lab1.txt", "LAB01.TXT", "lab0.txt": "lab", a number, ".txt", in any case.
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (starts_with(lower, "lab") && lower.size() > 7 && lower.substr(lower.size() - 4) == ".txt") {
      const std::string_view digits = std::string_view(lower).substr(3, lower.size() - 7);
      long number = 0;
      if (digits.size() <= 3 && whole_number(digits, number)) {
        for (const ReferenceLab& lab : labs) {
          if (std::stol(lab.id) == number) file.suggestion = fmt::format("lab{}.txt", lab.id);
        }
      }
    }
    found.push_back(std::move(file));
  }
  std::sort(found.begin(), found.end(), [](const UnrecognisedFile& a, const UnrecognisedFile& b) { return a.name < b.name; });
  return found;
}

std::string expected_names(const std::vector<ReferenceLab>& labs) {
  std::string short_names, long_names;
  for (const ReferenceLab& lab : labs) {
    short_names += fmt::format("{}lab{}.txt", short_names.empty() ? "" : ", ", lab.id);
    if (long_names.empty()) long_names = fmt::format("lab{}.txt, ...", lab.name);
  }
  return fmt::format("{} (or the binaries' names: {})", short_names, long_names);
}

std::vector<std::string> first_build_errors(std::string_view log, std::size_t max_errors) {
  const std::vector<std::string> lines = split_lines(log);
  const auto is_error = [](const std::string& line) {
    return line.find(": error: ") != std::string::npos || line.find(": fatal error: ") != std::string::npos ||
           line.find("undefined reference to") != std::string::npos;
  };
  // A line the compiler prints under an error: the source line ("   41 |   code") or the caret
  // line ("      |   ^~~~"). Notes are left out.
  const auto is_context = [](const std::string& line) {
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || is_digit(line[i]))) ++i;
    return i > 0 && i < line.size() && line[i] == '|';
  };
  std::vector<std::string> errors;
  for (std::size_t i = 0; i < lines.size() && errors.size() < max_errors; ++i) {
    if (!is_error(lines[i])) continue;
    std::string block = printable(lines[i], 400);
    for (std::size_t k = i + 1; k < lines.size() && k <= i + 3 && is_context(lines[k]); ++k) {
      block += "\n" + printable(lines[k], 400);
    }
    errors.push_back(std::move(block));
  }
  if (errors.empty()) {
    std::string tail;
    for (std::size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i) {
      tail += (tail.empty() ? "" : "\n") + printable(lines[i], 400);
    }
    if (!tail.empty()) errors.push_back(std::move(tail));
  }
  return errors;
}

}  // namespace labdiff
