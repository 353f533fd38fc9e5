// labdiff: compares two lab outputs (or a chapter's embedded excerpts with a lab output) under
// the workbook's rules: words, shapes, counts and verdicts exactly; decimals within
// |a − b| <= abs + rel·|expected|. Exit status 0 when they match, 1 when they differ, 2 on a
// usage or I/O error.
#include <algorithm>
#include <charconv>
#include <fmt/format.h>

#include "cli_support/command_line.hpp"
#include "compare.hpp"
#include "files.hpp"

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
  for (std::size_t i = 0; i < std::min(max_shown, c.differences.size()); ++i) {
    const labdiff::Difference& d = c.differences[i];
    std::string where = d.section.empty() ? "" : fmt::format(", section \"{}\"", d.section);
    if (!c.chapter.empty()) where += fmt::format(" of {}", c.chapter);
    fmt::print("\nline {}{}: {}\n", d.line, where, d.reason);
    if (!d.expected.empty()) fmt::print("  expected: {}\n", d.expected);
    if (!d.actual.empty()) fmt::print("  actual:   {}\n", d.actual);
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
      "  labdiff --chapter labs/01-assemble-mini-gpt/README.md lab01-output.txt\n",
      cli_support::CommandLine::Checks::as_declared};
  std::string first, second;
  labdiff::Tolerance tol;
  std::size_t max_shown = 10;
  bool chapter = false, update = false;
  app.option("expected", first, "the reference output (or, with --chapter, the chapter)").required();
  app.option("actual", second, "the output to check").required();
  app.option("--abs", tol.abs, "absolute tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.option("--rel", tol.rel, "relative tolerance for decimals").show_default().check(labdiff::check_tolerance_text, "TOLERANCE >= 0");
  app.option("--max-shown", max_shown, "differences to print").show_default().check(check_count);
  app.flag("--chapter", chapter, "compare the output excerpts embedded in a chapter with the output");
  app.flag("--update-chapter", update,
           "rewrite the chapter's excerpts from the output (used by scripts/regen-expected.sh only)");
  if (const std::optional<int> status = app.parse(argc, argv)) return *status;

  try {
    const std::string a = labdiff::read_text_file(first), b = labdiff::read_text_file(second);
    if (update) {
      const std::string updated = labdiff::update_chapter(a, b);
      labdiff::write_file_atomically(first, updated);
      return 0;
    }
    labdiff::Comparison c = chapter ? labdiff::compare_chapter(a, b, tol) : labdiff::compare_outputs(a, b, tol);
    if (chapter) c.chapter = first;
    if (c.same()) {
      fmt::print("labdiff: {} matches {}\n", second, first);
      return 0;
    }
    print_differences(c, first, second, tol, max_shown);
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "labdiff: error: {}\n", e.what());
    return 2;
  }
}
