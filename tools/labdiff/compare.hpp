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
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  // 1-based line number in the expected text; for an extra line, the expected line it follows
  // (0 when it comes before the first).
  std::size_t line;
  std::string section;     // the "== ... ==" section the line belongs to ("" before the first)
  std::string reason;
  std::string expected;    // the lines themselves ("" when missing)
  std::string actual;
  bool quote = false;      // a quoted number: `expected` is the chapter's line, `actual` the output's
  std::size_t actual_line = 0;  // 1-based line number in the actual text (0: the line is missing)
};

struct Comparison {
  std::vector<Difference> differences;  // all of them, in line order
  std::string chapter;                  // from a "chapter: <path>" line, if the output has one
  bool same() const { return differences.empty(); }
};

// The two outputs are first aligned, as diff aligns two files, then every pair of aligned lines
// is compared under the rules above. So a line inserted or deleted is one difference ("extra"
// or "missing") and the lines after it are still compared with their counterparts.
// The alignment (dtl, Debian's libdtl-dev: Wu, Manber and Myers' O(NP) algorithm) runs twice:
// on the lines as printed (whitespace runs collapsed), which anchors every line that did not
// change; then, inside each run of lines that did, on the lines with their decimals masked,
// which pairs a line with its counterpart whose numbers moved. What is left unpaired in a
// run is paired in order, the surplus reported missing or extra.
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

// Quotes: a number in a chapter's prose that a lab printed, tied to the line it comes from by
// an HTML comment right after it (invisible when the markdown is rendered):
//
//   the largest gap is 4.10·10⁻⁴<!-- quote lab00: GELU | max |exact − tanh| over -->, at ...
//
//   <!-- quote[ NAME]: SECTION | ANCHOR -->
//     NAME     which output: "lab00", "lab02-gpt2-small", ... (the names the command line gives,
//              --outputs NAME=FILE); none for the chapter's own lab (the excerpts' output).
//     SECTION  a "== N. SECTION ==" section of that output, named without its number.
//     ANCHOR   text that comes before the number on its line: the first line of the section
//              containing it (whitespace runs count as one space) is the quoted line, and the
//              numbers after ANCHOR on it are the candidates. "^text" must start the line.
//              "first … then" finds "first", then the first "then" at or after it: how to
//              reach one of several lines that start alike ("block_0.attn.v … position 0").
//   <!-- cita[ NAME]: ... --> is the same for a number written the Spanish way (4,73·10⁻⁴, 103.680).
//   In a table row, where a bare '|' would end the cell, a marker writes it "\|".
//
// The number is the one that ends right before "<!--" (closing `**`, `_` or a backtick may sit
// between). It is written as prose writes numbers: 0.061, −2.28, 2.0e-7, 4.1e−4, 4.73·10⁻⁴,
// 10⁻⁶, 103,680 (a comma before exactly three digits groups thousands). It matches a
// candidate when it is that number rounded to the digits the quote shows (half away from
// zero): 2.70 quotes 2.699, 0.06 quotes 0.061411, 4.73·10⁻⁴ quotes 4.732e-04; 4.09·10⁻⁴ does
// not quote 4.10e-04, nor 1.7e-7 2.0e-07. A quote with as many digits as the output, or more,
// must be the same number. There is no tolerance: quote only digits that are the same on every
// machine (labdiff lets a printed 6th decimal move), or check against the reference outputs.
struct Quote {
  std::size_t line;     // 1-based line of the number in the chapter
  std::string number;   // as written: "4.10·10⁻⁴"
  std::string output;   // NAME, or "" for the chapter's own lab
  std::string section;  // SECTION
  std::string anchor;   // ANCHOR
  bool spanish = false; // <!-- cita ... -->: decimal comma, thousands with a point
  std::string text;     // the chapter's line, for messages
};
// A marker inside a code block or a `code span` is an example, shown and not read. Throws
// std::runtime_error naming the line for a marker that cannot be read (no number right before
// it, no ':' or '|', no closing "-->").
std::vector<Quote> find_quotes(std::string_view chapter);

struct QuoteCheck {
  std::optional<std::string> problem;  // nothing when the quote matches
  std::string output_line;             // the quoted line, as the output prints it ("" if none)
};
QuoteCheck check_quote(const Quote& quote, std::string_view output);

// What a chapter is checked against.
struct ChapterOutputs {
  std::optional<std::string> own;            // its lab's output: the excerpts and unnamed quotes
  std::map<std::string, std::string> named;  // NAME -> output text, for quotes that name one
};

// Every excerpt compared with the same section of the chapter's own output (differences name
// the excerpt), and every quote checked against the output it names. An excerpt or a quote
// whose output was not given is a difference, never skipped.
Comparison compare_chapter(std::string_view chapter, const ChapterOutputs& outputs,
                           const Tolerance& tolerance);
// The same with only the chapter's own lab output.
Comparison compare_chapter(std::string_view chapter, std::string_view output,
                           const Tolerance& tolerance);

// The chapter with every excerpt replaced by the current section of `output`.
std::string update_chapter(std::string_view chapter, std::string_view output);

// --outputs "NAME=FILE[,NAME=FILE...]" split into (NAME, FILE) pairs; std::runtime_error says
// what is wrong (an empty or repeated NAME, a missing "=", characters other than letters,
// digits, '-' and '_' in a NAME).
std::vector<std::pair<std::string, std::string>> parse_named_outputs(std::string_view list);

// A --abs or --rel value as typed: "" when it is a finite number >= 0, else what is wrong.
// (CLI::NonNegativeNumber would name the range as 0 to DBL_MAX written out in 309 digits.)
std::string check_tolerance_text(const std::string& text);

}  // namespace labdiff
