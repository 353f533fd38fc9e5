#pragma once
// labdiff's comparison rules, as a library so the tests can exercise them.
//
// Two lab outputs are compared line by line. Each line is split into pieces:
//   - text      compared exactly, after runs of whitespace are collapsed (alignment may move);
//   - integers  (no decimal point, no exponent) compared exactly: counts, shapes, ids;
//   - decimals  (a decimal point or an exponent) compared with |a − b| <= abs + rel·|expected|:
//               floating-point results, whose last digits may move between CPUs, BLAS kernels
//               and thread counts.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace labdiff {

struct Tolerance {
  double abs = 1e-5;
  double rel = 1e-4;
};

struct Piece {
  enum class Kind { text, integer, decimal };
  Kind kind;
  std::string text;    // as written (text pieces: whitespace collapsed)
  double value = 0.0;  // for numbers
};

std::vector<Piece> split_line(std::string_view line);

// Why two lines differ, or nothing when they match under the rules above.
std::optional<std::string> compare_lines(std::string_view expected, std::string_view actual,
                                         const Tolerance& tolerance);

struct Difference {
  std::size_t line;        // 1-based line number in the expected text
  std::string section;     // the "== ... ==" section the line belongs to ("" before the first)
  std::string reason;
  std::string expected;    // the lines themselves ("" when missing)
  std::string actual;
};

struct Comparison {
  std::vector<Difference> differences;  // all of them, in line order
  std::string chapter;                  // from a "chapter: <path>" line, if the output has one
  bool same() const { return differences.empty(); }
};

Comparison compare_outputs(std::string_view expected, std::string_view actual,
                           const Tolerance& tolerance);

std::vector<std::string> split_lines(std::string_view text);

// A section of a lab output: its "== title ==" line and the lines up to the next section
// header, trailing blank lines dropped. Titles match without their numbers ("Seed test"
// finds "== 1. Seed test =="). Nothing when the output has no such section.
std::optional<std::string> extract_section(std::string_view output, std::string_view title);

// Chapter excerpts: a chapter embeds sections of its lab's output between
//   <!-- output: TITLE -->        and        <!-- /output -->
// (the lines between are a fenced code block holding the section).
struct Excerpt {
  std::string title;
  std::size_t first_line;  // 1-based line of the opening marker
  std::string body;        // the section text inside the fence
};
std::vector<Excerpt> find_excerpts(std::string_view chapter);

// Every excerpt compared with the same section of `output`; differences name the excerpt.
Comparison compare_chapter(std::string_view chapter, std::string_view output,
                           const Tolerance& tolerance);

// The chapter with every excerpt replaced by the current section of `output`.
std::string update_chapter(std::string_view chapter, std::string_view output);

// A --abs or --rel value as typed: "" when it is a finite number >= 0, else what is wrong.
// (CLI::NonNegativeNumber would name the range as 0 to DBL_MAX written out in 309 digits.)
std::string check_tolerance_text(const std::string& text);

}  // namespace labdiff
