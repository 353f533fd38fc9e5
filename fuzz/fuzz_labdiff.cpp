// Fuzz target: labdiff's parsers on arbitrary bytes, as a student may hand in (docs/grading.md:
// submissions are untrusted text).
//
// The input is two texts, EXPECTED and ACTUAL, split at its first NUL byte (without one, at its
// middle). The contract under test:
//   - text_problem and printable accept anything; printable's result is valid UTF-8 without
//     control bytes other than tab (text_problem finds nothing in it) and bounded in length;
//   - compare_outputs aligns any two texts: every line of each side is in exactly one pair, so
//     there are at most |EXPECTED| + |ACTUAL| differences, and a text compared with itself has
//     none;
//   - the chapter functions (excerpts, quotes) either work or throw std::runtime_error, the one
//     exception they document for a malformed marker.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "compare.hpp"
#include "text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::size_t cut = nul == std::string_view::npos ? size / 2 : nul;
  const std::string_view expected = input.substr(0, cut);
  const std::string_view actual = input.substr(nul == std::string_view::npos ? cut : cut + 1);
  const labdiff::Tolerance tolerance;

  (void)labdiff::text_problem(input);
  const std::string shown = labdiff::printable(input, 64);
  if (labdiff::text_problem(shown)) std::abort();        // printable output is printable
  if (shown.size() > 64 * 4 + 64) std::abort();           // 64 characters, each at most \xNN or 4 bytes, and the tail

  const labdiff::Comparison c = labdiff::compare_outputs(expected, actual, tolerance);
  const std::size_t lines = labdiff::split_lines(expected).size() + labdiff::split_lines(actual).size();
  if (c.differences.size() > lines) std::abort();
  if (!labdiff::compare_outputs(expected, expected, tolerance).same()) std::abort();
  for (const labdiff::Difference& d : c.differences) (void)labdiff::printable(d.reason, 200);

  (void)labdiff::extract_section(actual, expected.substr(0, 40));
  try {
    (void)labdiff::find_excerpts(expected);
    (void)labdiff::find_quotes(expected);
    (void)labdiff::compare_chapter(expected, actual, tolerance);
    (void)labdiff::update_chapter(expected, actual);
  } catch (const std::runtime_error&) {
  }
  try {
    (void)labdiff::parse_named_outputs(expected);
  } catch (const std::runtime_error&) {
  }
  (void)labdiff::check_tolerance_text(std::string(actual.substr(0, 40)));
  return 0;
}
