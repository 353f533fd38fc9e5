// labdiff: compares two lab outputs (or a chapter's embedded excerpts with a lab output) under
// the workbook's rules: words, shapes, counts and verdicts exactly; decimals within
// |a − b| <= abs + rel·|expected|. With --chapter it also checks the numbers the chapter's
// prose quotes from lab outputs (compare.hpp, "Quotes"). Exit status 0 when they match, 1 when
// they differ, 2 on a usage or I/O error.
#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <stdexcept>

#include "cli_support/command_line.hpp"
#include "cli_support/files.hpp"
#include "compare.hpp"
#include "files.hpp"
#include "text.hpp"

namespace {

std::string check_count(const std::string& text) {
  std::size_t value = 0;
  const char* last = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), last, value);
  if (ec != std::errc() || stop != last || text.empty()) {
    return fmt::format("'{}' is not a whole number >= 0", text);
  }
  return "";
}

void print_differences(const labdiff::Comparison& c, const std::string& expected_name,
                       const std::string& actual_name, const labdiff::Tolerance& tol,
                       std::size_t max_shown) {
  fmt::print("labdiff: {} difference{} between {} (expected) and {} (actual)\n",
             c.differences.size(), c.differences.size() == 1 ? "" : "s", expected_name, actual_name);
  fmt::print("rules: words, shapes, counts and verdicts exactly; decimals within {:g} + {:g}·|expected|\n",
             tol.abs, tol.rel);
  if (std::any_of(c.differences.begin(), c.differences.end(), [](const labdiff::Difference& d) { return d.quote; })) {
    fmt::print("quotes: a number the prose quotes is the printed number, rounded to the digits it shows\n");
  }
  for (std::size_t i = 0; i < std::min(max_shown, c.differences.size()); ++i) {
    const labdiff::Difference& d = c.differences[i];
    if (d.quote) {
      // A quoted number: the chapter's line, the output's line it names.
      fmt::print("\n{}:{}: {}\n", c.chapter, d.line, d.reason);
      fmt::print("  chapter: {}\n", d.expected);
      if (!d.actual.empty()) fmt::print("  output:  {}\n", d.actual);
      continue;
    }
    // "line 12", "line 12 (actual line 11)" once a line was inserted or deleted before it,
    // "after line 12 (actual line 13)" for an extra line.
    const bool extra = d.expected.empty() && d.actual_line != 0;
    std::string where = fmt::format("{}line {}", extra ? "after " : "", d.line);
    if (d.actual_line != 0 && d.actual_line != d.line) where += fmt::format(" (actual line {})", d.actual_line);
    if (!d.section.empty()) where += fmt::format(", section \"{}\"", labdiff::printable(d.section));
    if (!c.chapter.empty()) where += fmt::format(" of {}", labdiff::printable(c.chapter));
    fmt::print("\n{}: {}\n", where, labdiff::printable(d.reason, 400));
    if (!d.expected.empty()) fmt::print("  expected: {}\n", labdiff::printable(d.expected));
    if (!d.actual.empty()) fmt::print("  actual:   {}\n", labdiff::printable(d.actual));
  }
  if (c.differences.size() > max_shown) {
    fmt::print("\n... and {} more (show more with --max-shown N)\n", c.differences.size() - max_shown);
  }
}

}  // namespace

int main(int argc, char** argv) {
  cli_support::CommandLine app{
      "labdiff: compare a lab's output with its reference output.\n"
      "Words, shapes, counts (integers) and verdicts must match exactly; decimals (numbers with\n"
      "a point or an exponent) may differ by abs + rel·|expected|, the room that another CPU,\n"
      "BLAS kernel or thread count needs.\n\n"
      "  labdiff labs/01-assemble-mini-gpt/expected.txt student-lab01.txt\n"
      "  labdiff --chapter labs/01-assemble-mini-gpt/README.md lab01-output.txt\n"
      "  labdiff --chapter theory/02-ffn-and-activations.md --outputs lab00=out00.txt,lab02=out02.txt\n\n"
      "With --chapter, the chapter's excerpts (<!-- output: SECTION -->) are compared with its lab's\n"
      "output, and every number its prose quotes (NUMBER<!-- quote[ NAME]: SECTION | ANCHOR -->)\n"
      "must be that number as the output prints it, rounded to the digits the quote shows.\n",
      cli_support::CommandLine::Checks::as_declared};
  std::string first, second, outputs_list;
  labdiff::Tolerance tol;
  std::size_t max_shown = 10;
  bool chapter = false, update = false;
  app.option("expected", first, "the reference output (or, with --chapter, the chapter)").required();
  app.option("actual", second, "the output to check (with --chapter: the chapter's own lab output)");
  app.option("--abs", tol.abs, "absolute tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.option("--rel", tol.rel, "relative tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.option("--max-shown", max_shown, "differences to print").show_default().check(check_count);
  app.flag("--chapter", chapter, "compare the output excerpts embedded in a chapter with the output");
  app.option("--outputs", outputs_list,
             "with --chapter: the outputs that quotes name, NAME=FILE[,NAME=FILE...] (lab00=out00.txt)")
      .type_name("LIST")
      .check([](const std::string& text) -> std::string {
        try {
          labdiff::parse_named_outputs(text);
          return "";
        } catch (const std::exception& e) {
          return e.what();
        }
      });
  app.flag("--update-chapter", update,
           "rewrite the chapter's excerpts from the output (used by scripts/regen-expected.sh only)");
  if (const std::optional<int> status = app.parse(argc, argv)) return *status;

  if (second.empty() && !(chapter && !outputs_list.empty())) {
    fmt::print(stderr, "actual is required{}\nRun with --help for more information.\n",
               chapter ? " (or, for a chapter without a lab of its own, --outputs NAME=FILE,...)" : "");
    return 2;
  }
  if (update && second.empty()) {
    fmt::print(stderr, "actual is required: --update-chapter rewrites the excerpts from that output\n"
                       "Run with --help for more information.\n");
    return 2;
  }
  if (!outputs_list.empty() && !chapter) {
    fmt::print(stderr, "--outputs names the outputs a chapter quotes: use it with --chapter\n"
                       "Run with --help for more information.\n");
    return 2;
  }

  try {
    // A chapter is the workbook's own text; a lab output may be anything a student hands in,
    // so it is read as untrusted (text.hpp): a file that is not a lab output differs, and says
    // why, instead of being compared byte by byte.
    std::string a, b;
    if (chapter || update) {
      a = labdiff::read_text_file(first);
    } else {
      labdiff::LabText reference = labdiff::read_lab_output(first);
      if (reference.problem) throw std::runtime_error(fmt::format("'{}' (expected): {}", first, *reference.problem));
      a = std::move(reference.text);
    }
    if (!second.empty()) {
      labdiff::LabText output = labdiff::read_lab_output(second);
      if (output.problem) {
        if (update) throw std::runtime_error(fmt::format("'{}': {}", second, *output.problem));
        fmt::print("labdiff: {} does not match {}: it is not a lab output ({})\n", second, first, *output.problem);
        return 1;
      }
      b = std::move(output.text);
    }
    if (update) {
      const std::string updated = labdiff::update_chapter(a, b);
      cli_support::write_file_atomically(first, updated);
      // The prose around the excerpts is not rewritten: say how many of its quotes of this
      // output it now gets wrong (a person rewrites them; labdiff --chapter lists them).
      std::size_t quotes = 0;
      for (const labdiff::Quote& q : labdiff::find_quotes(updated)) {
        quotes += q.output.empty() && labdiff::check_quote(q, b).problem.has_value();
      }
      if (quotes > 0) {
        fmt::print(stderr, "labdiff: {} quote{} in {}'s prose no longer match{} this output; see them with "
                           "labdiff --chapter {} {}\n",
                   quotes, quotes == 1 ? "" : "s", first, quotes == 1 ? "es" : "", first, second);
      }
      return 0;
    }
    labdiff::Comparison c;
    if (chapter) {
      labdiff::ChapterOutputs outputs;
      if (!second.empty()) outputs.own = b;
      if (!outputs_list.empty()) {
        for (const auto& [name, path] : labdiff::parse_named_outputs(outputs_list)) {
          labdiff::LabText output = labdiff::read_lab_output(path);
          if (output.problem) {
            fmt::print("labdiff: {} (--outputs {}) is not a lab output ({})\n", path, name, *output.problem);
            return 1;
          }
          outputs.named.emplace(name, std::move(output.text));
        }
      }
      c = labdiff::compare_chapter(a, outputs, tol);
      c.chapter = first;
    } else {
      c = labdiff::compare_outputs(a, b, tol);
    }
    const std::string actual_name = second.empty() ? outputs_list : second;
    if (c.same()) {
      fmt::print("labdiff: {} matches {}\n", actual_name, first);
      return 0;
    }
    print_differences(c, first, actual_name, tol, max_shown);
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "labdiff: error: {}\n", e.what());
    return 2;
  }
}
