#include "report.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "files.hpp"
#include "text.hpp"

namespace labdiff {

namespace {

std::string plural(std::size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// "default run" or "run text (--seed 7 --text '<bos> I')".
std::string run_title(const RunVerdict& r) {
  if (r.spec.name.empty()) return "default run";
  return fmt::format("run {} ({})", r.spec.name, printable(shell_words(r.spec.args), 300));
}

// "line 12 (actual line 11), section "3. RoPE": reason"
std::string difference_line(const Difference& d) {
  const bool extra = d.expected.empty() && d.actual_line != 0;
  std::string where = fmt::format("{}line {}", extra ? "after " : "", d.line);
  if (d.actual_line != 0 && d.actual_line != d.line) where += fmt::format(" (actual line {})", d.actual_line);
  if (!d.section.empty()) where += fmt::format(", section \"{}\"", printable(d.section, 80));
  return fmt::format("{}: {}", where, printable(d.reason, 300));
}

std::string check_line(const CheckVerdict& c) {
  return fmt::format("[{}] {}{}", upper(c.status), printable(c.name, 200), c.reason.empty() ? "" : ": " + printable(c.reason, 400));
}

// The first thing wrong with a run, for one line.
std::string first_problem(const RunVerdict& r) {
  if (!r.problem.empty() && r.status != "fail") return r.problem;
  for (const CheckVerdict& c : r.checks) {
    if (c.status != "pass") return check_line(c);
  }
  if (!r.unexpected.empty()) return "unexpected failing check: " + printable(r.unexpected.front(), 300);
  return r.problem;
}

const RunVerdict& default_run(const LabVerdict& lab) { return lab.runs.front(); }

// Whether to list a check of a run: what does not pass, and of a run stopped by a time limit, a
// crash or not run at all only what failed (its other checks are missing because it stopped).
bool worth_listing(const RunVerdict& r, const CheckVerdict& c) {
  if (c.status == "pass") return false;
  const bool stopped = r.status == "timeout" || r.status == "crashed" || r.status == "not run";
  return !stopped || c.status == "fail";
}

std::string unrecognised_line(const Grading& g) {
  std::string list;
  for (const UnrecognisedFile& f : g.unrecognised) {
    list += (list.empty() ? "" : ", ") + f.name + (f.suggestion.empty() ? "" : " (did you mean " + f.suggestion + "?)");
  }
  return fmt::format("not graded, not a name labgrade reads: {}; it reads {}", list, g.expected_names);
}

}  // namespace

std::size_t Grading::labs_passed() const {
  return static_cast<std::size_t>(std::count_if(labs.begin(), labs.end(), [](const LabVerdict& l) { return passes(l.status); }));
}
std::size_t Grading::checks_passed() const {
  std::size_t n = 0;
  for (const LabVerdict& l : labs) n += l.passed;
  return n;
}
std::size_t Grading::checks_total() const {
  std::size_t n = 0;
  for (const LabVerdict& l : labs) n += l.total;
  return n;
}

std::string upper(const std::string& status) {
  std::string s = status;
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return s;
}

void print_report(const Grading& g) {
  fmt::print("labgrade: {} against the reference outputs in {}\n", printable(g.submission), g.reference);
  std::size_t hidden_runs = 0;
  for (const LabVerdict& l : g.labs) hidden_runs += l.runs.size() - 1;
  if (!g.hidden.empty()) {
    fmt::print("and {} against the solution's outputs in {}\n", plural(hidden_runs, "hidden run"), g.hidden);
  }
  fmt::print("a check passes when the student's line says PASS and matches the reference's line\n");
  fmt::print("(words and integers exactly, decimals within {:g} + {:g}·|expected|)\n", g.tolerance.abs, g.tolerance.rel);
  if (g.checks_only) fmt::print("checks only: an output that differs from its reference where every check passes is not a failure\n");
  for (const std::string& note : g.notes) fmt::print("{}\n", printable(note, 2000));
  if (!g.unrecognised.empty()) fmt::print("{}\n", unrecognised_line(g));
  if (!g.built) {
    fmt::print("\nthe submission does not build; the first errors:\n");
    for (const std::string& e : g.build_errors) fmt::print("{}\n", e);
  }
  for (const LabVerdict& lab : g.labs) {
    const RunVerdict& first = default_run(lab);
    fmt::print("\nlab{} · {} · {}\n", lab.id, lab.name, first.file.empty() ? "no file" : printable(first.file));
    for (const RunVerdict& r : lab.runs) {
      const bool hidden = !r.spec.name.empty();
      if (hidden) {
        fmt::print("  {} · {}: {}, {} of {} checks pass\n", run_title(r), r.file.empty() ? "no file" : printable(r.file),
                   upper(r.status), r.passed, r.checks.size());
      }
      const std::string indent = hidden ? "    " : "  ";
      if (r.status == "not built" && !hidden) {
        fmt::print("{}not built: every check of this lab is missing\n", indent);
      } else if (r.status != "not built") {
        for (const CheckVerdict& c : r.checks) {
          // A hidden run shows only what does not pass: its passing checks repeat the default run's.
          if (hidden ? worth_listing(r, c) : (c.status == "pass" || worth_listing(r, c))) {
            fmt::print("{}{}\n", indent, check_line(c));
          }
        }
      }
      for (const std::string& line : r.unexpected) fmt::print("{}unexpected failing check: {}\n", indent, printable(line, 400));
      for (const std::string& piece : r.not_implemented) {
        if (!hidden) fmt::print("{}not implemented yet: {}\n", indent, printable(piece, 400));
      }
      if (!r.problem.empty() && r.status != "differs" && r.status != "missing" && r.status != "not built") {
        fmt::print("{}{}\n", indent, printable(r.problem, 400));
      }
      if (!r.stderr_tail.empty()) {
        fmt::print("{}its last lines on stderr:\n", indent);
        for (const std::string& line : split_lines(r.stderr_tail)) fmt::print("{}  {}\n", indent, line);
      }
      if (r.status != "missing" && r.status != "not built" && r.status != "unreadable") {
        const char* against = hidden ? "the solution's output" : "reference";
        if (r.differing_lines == 0) {
          fmt::print("{}whole output vs {}: matches\n", indent, against);
        } else {
          fmt::print("{}whole output vs {}: {} differ{}\n", indent, against, plural(r.differing_lines, "line"),
                     r.differing_lines == 1 ? "s" : "");
          for (const Difference& d : r.first_differences) fmt::print("{}  {}\n", indent, difference_line(d));
        }
      }
    }
    std::string why;
    if (lab.status == "differs") why = " (checks pass, output differs from the reference)";
    fmt::print("  verdict lab{}: {}{}, {} of {} checks pass\n", lab.id, upper(lab.status), why, lab.passed, lab.total);
  }
  fmt::print("\nsummary\n");
  for (const LabVerdict& lab : g.labs) {
    fmt::print("  lab{}  {:<10} {:>3} of {:>3} checks pass\n", lab.id, upper(lab.status), lab.passed, lab.total);
  }
  fmt::print("overall: {}, {} of {} labs pass, {} of {} checks\n", g.passed() ? "PASS" : "FAIL", g.labs_passed(),
             g.labs.size(), g.checks_passed(), g.checks_total());
}

void print_brief(const Grading& g) {
  if (!g.unrecognised.empty()) fmt::print("{}\n", unrecognised_line(g));
  for (const LabVerdict& lab : g.labs) {
    std::string detail;
    if (!passes(lab.status)) {
      for (const RunVerdict& r : lab.runs) {
        if (r.status != lab.status) continue;
        if (lab.status == "not built" && !g.build_errors.empty()) {
          detail = "; " + split_lines(g.build_errors.front()).front();
        } else {
          detail = fmt::format("; {}{}", r.spec.name.empty() ? "" : run_title(r) + ": ", first_problem(r));
        }
        break;
      }
    }
    fmt::print("lab{}  {:<10} {:>3} of {:>3} checks{}\n", lab.id, upper(lab.status), lab.passed, lab.total, detail);
  }
  fmt::print("overall: {}, {} of {} labs pass, {} of {} checks\n", g.passed() ? "PASS" : "FAIL", g.labs_passed(),
             g.labs.size(), g.checks_passed(), g.checks_total());
}

void print_list_failing(const Grading& g) {
  for (const LabVerdict& lab : g.labs) {
    for (const RunVerdict& r : lab.runs) {
      const std::string prefix = r.spec.name.empty() ? "" : "[" + r.spec.name + "] ";
      if (!r.problem.empty() && r.status != "fail" && r.status != "missing" && !passes(r.status)) {
        fmt::print("lab{} | {}{} | {}\n", lab.id, prefix, r.status == "differs" ? "output" : "run", printable(r.problem, 400));
      }
      for (const CheckVerdict& c : r.checks) {
        if (c.status != "pass") fmt::print("lab{} | {}{} | {}\n", lab.id, prefix, printable(c.name, 200), printable(c.reason, 400));
      }
      for (const std::string& line : r.unexpected) fmt::print("lab{} | {}unexpected | {}\n", lab.id, prefix, printable(line, 400));
    }
  }
}

std::string to_json(const Grading& g) {
  using nlohmann::json;
  json labs = json::array();
  for (const LabVerdict& lab : g.labs) {
    json checks = json::array(), runs = json::array(), unexpected = json::array(), pieces = json::array();
    std::size_t differing = 0;
    for (const RunVerdict& r : lab.runs) {
      const std::string run = r.spec.name.empty() ? "default" : r.spec.name;
      for (const CheckVerdict& c : r.checks) {
        checks.push_back({{"run", run}, {"name", c.name}, {"verdict", c.status}, {"reason", c.reason}});
      }
      for (const std::string& line : r.unexpected) unexpected.push_back(line);
      for (const std::string& piece : r.not_implemented) {
        if (std::find(pieces.begin(), pieces.end(), piece) == pieces.end()) pieces.push_back(piece);
      }
      differing += r.differing_lines;
      json differences = json::array();
      for (const Difference& d : r.first_differences) {
        differences.push_back({{"line", d.line}, {"actual_line", d.actual_line}, {"section", d.section},
                               {"reason", d.reason}, {"expected", printable(d.expected, 2000)},
                               {"actual", printable(d.actual, 2000)}});
      }
      runs.push_back({{"run", run},
                      {"arguments", r.spec.args},
                      {"file", r.file},
                      {"verdict", r.status},
                      {"problem", r.problem},
                      {"checks_passed", r.passed},
                      {"checks_total", r.checks.size()},
                      {"differing_lines", r.differing_lines},
                      {"differences", differences},
                      {"stderr", r.stderr_tail}});
    }
    labs.push_back({{"lab", lab.id},
                    {"name", lab.name},
                    {"file", default_run(lab).file},
                    {"verdict", lab.status},
                    {"checks_passed", lab.passed},
                    {"checks_total", lab.total},
                    {"checks", checks},
                    {"unexpected_failures", unexpected},
                    {"not_implemented", pieces},
                    {"differing_lines", differing},
                    {"runs", runs}});
  }
  json unrecognised = json::array();
  for (const UnrecognisedFile& f : g.unrecognised) unrecognised.push_back({{"name", f.name}, {"suggestion", f.suggestion}});
  const json doc = {{"submission", g.submission},
                    {"student", g.student},
                    {"reference", g.reference},
                    {"hidden_runs", g.hidden.empty() ? json(nullptr) : json(g.hidden)},
                    {"tolerance", {{"abs", g.tolerance.abs}, {"rel", g.tolerance.rel}}},
                    {"checks_only", g.checks_only},
                    {"built", g.built},
                    {"build_errors", g.build_errors},
                    {"notes", g.notes},
                    {"unrecognised_files", unrecognised},
                    {"labs", labs},
                    {"labs_passed", g.labs_passed()},
                    {"labs_total", g.labs.size()},
                    {"checks_passed", g.checks_passed()},
                    {"checks_total", g.checks_total()},
                    {"passed", g.passed()}};
  // A student's text is in there: replace what is not UTF-8 rather than throw.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string feedback_text(const Grading& g) {
  std::string out;
  const auto line = [&](const std::string& text) { out += text + "\n"; };
  const std::string title = "Feedback for " + printable(g.student, 200);
  line(title);
  line(std::string(title.size() > 200 ? 200 : title.size(), '='));
  line("");
  line(fmt::format("Overall: {}, {} of {} labs pass, {} of {} checks.", g.passed() ? "PASS" : "FAIL", g.labs_passed(),
                   g.labs.size(), g.checks_passed(), g.checks_total()));
  line("");
  if (!g.hidden.empty()) {
    line("How this was graded: your piece files were built into the course's own labs. Each lab ran with");
    line("its default arguments (compared with labs/NN-*/expected.txt, which you have) and with other");
    line("inputs (compared with what the course's solution prints for them).");
  }
  line(fmt::format("A check passes when your lab says PASS and its numbers match the reference's within"));
  line(fmt::format("{:g} + {:g}·|expected|; a lab passes when every check of every run passes and its output matches.",
                   g.tolerance.abs, g.tolerance.rel));
  if (g.checks_only) line("(Only the checks were graded: an output that differs where every check passes is not a failure.)");
  for (const std::string& note : g.notes) line(printable(note, 2000));
  if (!g.unrecognised.empty()) line(unrecognised_line(g));
  if (!g.built) {
    line("");
    line("Your code does not build, so no lab could run. The first errors:");
    line("");
    for (const std::string& e : g.build_errors) {
      for (const std::string& l : split_lines(e)) line("    " + l);
    }
  }
  for (const LabVerdict& lab : g.labs) {
    line("");
    line(fmt::format("lab{} · {}: {}, {} of {} checks pass", lab.id, lab.name, upper(lab.status), lab.passed, lab.total));
    if (passes(lab.status) || lab.status == "not built") continue;
    for (const RunVerdict& r : lab.runs) {
      if (passes(r.status)) continue;
      line(fmt::format("  {}: {}", run_title(r), upper(r.status)));
      if (!r.problem.empty() && r.status != "fail") line("    " + printable(r.problem, 400));
      for (const std::string& s : split_lines(r.stderr_tail)) line("      stderr: " + s);
      if (r.status != "missing" && r.status != "unreadable") {
        // A hidden run that fails usually fails as the default run does: its first few checks.
        const std::size_t shown = r.spec.name.empty() ? r.checks.size() : 5;
        std::size_t listed = 0, more = 0;
        for (const CheckVerdict& c : r.checks) {
          if (!worth_listing(r, c)) continue;
          if (listed++ < shown) {
            line("    " + check_line(c));
          } else {
            ++more;
          }
        }
        if (more > 0) line(fmt::format("    ... and {} more not passing", more));
      }
      for (const std::string& u : r.unexpected) line("    unexpected failing check: " + printable(u, 400));
      for (const std::string& piece : r.not_implemented) line("    not implemented yet: " + printable(piece, 400));
      if (r.status == "differs") {
        for (const Difference& d : r.first_differences) line("    " + difference_line(d));
      }
    }
  }
  return out;
}

namespace {

// A CSV field: quoted when it holds a separator, a quote or a line break; a text that a
// spreadsheet would run as a formula ("=...", "+...", "-...", "@...") starts with a quote mark.
std::string csv_field(const std::string& text, bool number = false) {
  std::string s = text;
  if (!number && !s.empty() && std::string_view("=+-@").find(s.front()) != std::string_view::npos) s.insert(0, "'");
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string quoted = "\"";
  for (const char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string gradebook_csv(const std::filesystem::path& results) {
  namespace fs = std::filesystem;
  using nlohmann::json;
  std::error_code ec;
  if (!fs::is_directory(results, ec)) {
    throw std::runtime_error(fmt::format("the results folder '{}' does not exist", results.string()));
  }
  std::vector<std::pair<std::string, std::optional<json>>> students;
  for (const fs::directory_entry& entry : fs::directory_iterator(results)) {
    if (!entry.is_directory()) continue;
    const fs::path file = entry.path() / "verdicts.json";
    std::optional<json> doc;
    if (fs::exists(file, ec)) {
      try {
        doc = json::parse(read_text_file(file));
        (void)doc->at("labs").size();
      } catch (const json::exception& e) {
        throw std::runtime_error(fmt::format("'{}' is not labgrade's JSON: {}", file.string(), e.what()));
      }
    }
    students.emplace_back(entry.path().filename().string(), std::move(doc));
  }
  std::sort(students.begin(), students.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // The labs and how many checks each has, from the graded students (the same for all of them).
  std::vector<std::string> labs;
  std::map<std::string, std::size_t> totals;
  for (const auto& [name, doc] : students) {
    if (!doc) continue;
    for (const json& lab : doc->at("labs")) {
      const std::string id = lab.at("lab").get<std::string>();
      if (std::find(labs.begin(), labs.end(), id) == labs.end()) labs.push_back(id);
      totals[id] = std::max(totals[id], lab.at("checks_total").get<std::size_t>());
    }
  }
  std::sort(labs.begin(), labs.end());
  std::size_t all = 0;
  std::string csv = "student";
  for (const std::string& id : labs) {
    csv += fmt::format(",lab{} (of {})", id, totals[id]);
    all += totals[id];
  }
  csv += fmt::format(",total (of {}),labs passed (of {}),verdict\n", all, labs.size());
  for (const auto& [name, doc] : students) {
    csv += csv_field(name);
    if (!doc) {
      for (std::size_t k = 0; k < labs.size() + 2; ++k) csv += ",";
      csv += ",not graded: no verdicts.json\n";
      continue;
    }
    std::size_t total = 0;
    std::string failing;
    for (const std::string& id : labs) {
      const auto lab = std::find_if(doc->at("labs").begin(), doc->at("labs").end(),
                                    [&](const json& l) { return l.at("lab").get<std::string>() == id; });
      if (lab == doc->at("labs").end()) {
        csv += ",";
        continue;
      }
      const std::size_t passed = lab->at("checks_passed").get<std::size_t>();
      total += passed;
      csv += fmt::format(",{}", passed);
      const std::string verdict = lab->at("verdict").get<std::string>();
      if (verdict != "pass") failing += fmt::format("{}lab{} {}", failing.empty() ? "" : ", ", id, verdict);
    }
    std::string verdict = doc->at("passed").get<bool>() ? "PASS" : "FAIL: " + failing;
    if (!doc->at("built").get<bool>()) {
      verdict = "does not build";
      const json& errors = doc->at("build_errors");
      if (!errors.empty()) verdict += ": " + split_lines(errors.front().get<std::string>()).front();
    }
    csv += fmt::format(",{},{},{}\n", total, doc->at("labs_passed").get<std::size_t>(), csv_field(printable(verdict, 300)));
  }
  return csv;
}

}  // namespace labdiff
