#include "compare.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <dtl/dtl.hpp>
#include <fmt/format.h>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "text.hpp"

namespace labdiff {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Length of the number starting at line[i], or 0. Sets `decimal` when it has a point or an
// exponent. A sign belongs to the number only when it does not follow a word character
// ("x-1" is text "x-" and 1; " -1" is −1).
std::size_t number_at(std::string_view line, std::size_t i, bool& decimal) {
  std::size_t j = i;
  if ((line[j] == '-' || line[j] == '+') && j + 1 < line.size() &&
      (is_digit(line[j + 1]) || (line[j + 1] == '.' && j + 2 < line.size() && is_digit(line[j + 2])))) {
    if (i > 0 && is_word(line[i - 1])) return 0;
    ++j;
  }
  const std::size_t digits_start = j;
  while (j < line.size() && is_digit(line[j])) ++j;
  decimal = false;
  if (j < line.size() && line[j] == '.' && j + 1 < line.size() && is_digit(line[j + 1])) {
    decimal = true;
    ++j;
    while (j < line.size() && is_digit(line[j])) ++j;
  }
  if (j == digits_start) return 0;  // a sign or a point alone
  // A word character right before the digits makes them part of a name ("block_0", "W_1",
  // "x2"): still a number piece, so an index change is caught, but never signed.
  if (j < line.size() && (line[j] == 'e' || line[j] == 'E')) {
    std::size_t k = j + 1;
    if (k < line.size() && (line[k] == '-' || line[k] == '+')) ++k;
    if (k < line.size() && is_digit(line[k])) {
      while (k < line.size() && is_digit(line[k])) ++k;
      decimal = true;
      j = k;
    }
  }
  return j - i;
}

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  bool in_space = false;
  for (const char c : s) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  if (in_space && !out.empty()) out += ' ';
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_section_header(std::string_view line) {
  line = trim(line);
  return line.size() >= 6 && line.substr(0, 3) == "== " && line.substr(line.size() - 3) == " ==";
}

std::string section_title(std::string_view line) {
  line = trim(line);
  return std::string(line.substr(3, line.size() - 6));
}

// "3. Seed test" -> "Seed test": chapters name sections without their number, so that
// inserting a section does not break every excerpt after it.
std::string_view bare_title(std::string_view title) {
  std::size_t i = 0;
  while (i < title.size() && is_digit(title[i])) ++i;
  if (i > 0 && i + 1 < title.size() && title[i] == '.' && title[i + 1] == ' ') return title.substr(i + 2);
  return title;
}

}  // namespace

std::vector<Piece> split_line(std::string_view line) {
  line = trim(line);
  std::vector<Piece> pieces;
  std::string text;
  auto flush_text = [&] {
    if (!text.empty()) pieces.push_back({Piece::Kind::text, collapse_whitespace(text), 0.0});
    text.clear();
  };
  std::size_t i = 0;
  while (i < line.size()) {
    bool decimal = false;
    const std::size_t n = number_at(line, i, decimal);
    if (n == 0) {
      text += line[i++];
      continue;
    }
    flush_text();
    const std::string number(line.substr(i, n));
    pieces.push_back({decimal ? Piece::Kind::decimal : Piece::Kind::integer, number,
                      std::strtod(number.c_str(), nullptr)});
    i += n;
  }
  flush_text();
  return pieces;
}

namespace {

// Whether two split lines match: compare_pieces without the message, for the alignment, which
// asks it of many pairs of lines.
bool pieces_match(const std::vector<Piece>& e, const std::vector<Piece>& a, const Tolerance& tolerance) {
  if (e.size() != a.size()) return false;
  for (std::size_t k = 0; k < e.size(); ++k) {
    if (e[k].kind != a[k].kind) return false;
    if (e[k].kind != Piece::Kind::decimal) {
      if (e[k].text != a[k].text) return false;
    } else if (!(std::abs(e[k].value - a[k].value) <= tolerance.abs + tolerance.rel * std::abs(e[k].value))) {
      return false;  // written so that NaN fails, as in compare_pieces
    }
  }
  return true;
}

// Why two split lines differ, or nothing when they match.
std::optional<std::string> compare_pieces(const std::vector<Piece>& e, const std::vector<Piece>& a,
                                          const Tolerance& tolerance) {
  const std::size_t n = std::min(e.size(), a.size());
  for (std::size_t k = 0; k < n; ++k) {
    // A piece is shown shortened: an output's line may be a million characters long.
    const auto shown = [](const Piece& p) { return printable(p.text, 80); };
    if (e[k].kind != a[k].kind) {
      return fmt::format("'{}' became '{}'", shown(e[k]), shown(a[k]));
    }
    switch (e[k].kind) {
      case Piece::Kind::text:
      case Piece::Kind::integer:
        if (e[k].text != a[k].text) {
          return fmt::format("{} '{}' became '{}'", e[k].kind == Piece::Kind::text ? "text" : "count",
                             shown(e[k]), shown(a[k]));
        }
        break;
      case Piece::Kind::decimal: {
        const double diff = std::abs(e[k].value - a[k].value);
        const double allowed = tolerance.abs + tolerance.rel * std::abs(e[k].value);
        // Written so that NaN fails: only a diff that is <= allowed passes.
        if (!(diff <= allowed)) {
          return fmt::format("number {} became {}: |diff| = {:.3g} > {:.3g}", shown(e[k]), shown(a[k]),
                             diff, allowed);
        }
        break;
      }
    }
  }
  if (e.size() != a.size()) {
    return fmt::format("the line has {} pieces instead of {}", a.size(), e.size());
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> compare_lines(std::string_view expected, std::string_view actual,
                                         const Tolerance& tolerance) {
  // The same text is the same line, even where it holds a number no tolerance can take (1e999
  // reads as infinity, and inf − inf is NaN).
  if (expected == actual) return std::nullopt;
  return compare_pieces(split_line(expected), split_line(actual), tolerance);
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

namespace {

// One step of an alignment: expected line `e` and actual line `a` (0-based), either of them
// absent (kNone) for a missing or an extra line.
constexpr std::size_t kNone = static_cast<std::size_t>(-1);
struct Pair {
  std::size_t e, a;
};

// When expected line i and actual line j are "the same line" for one pass of the alignment.
using SameLine = std::function<bool(std::size_t, std::size_t)>;

// dtl compares the elements of two sequences with a comparator object; here the elements are
// line numbers and the comparator asks SameLine. dtl passes the expected side first, also when it
// swaps the sequences internally to make the first the shorter.
class ByLine : public dtl::Compare<long long> {
 public:
  ByLine() = default;
  explicit ByLine(const SameLine* same) : same_(same) {}
  bool impl(const long long& e, const long long& a) const override {
    return (*same_)(static_cast<std::size_t>(e), static_cast<std::size_t>(a));
  }

 private:
  const SameLine* same_ = nullptr;
};

// What happens to a run of lines the pass did not pair: the next pass, or pairing in order.
using Inside = std::function<void(std::size_t, std::size_t, std::size_t, std::size_t, std::vector<Pair>&)>;

// Aligns expected lines [e0, e1) with actual lines [a0, a1): the pairs `same` accepts along a
// longest common subsequence (dtl), and each run of lines between two of them handed to `inside`.
void align(std::size_t e0, std::size_t e1, std::size_t a0, std::size_t a1, const SameLine& same,
           const Inside& inside, std::vector<Pair>& out) {
  // The common head and tail need no diff; only the middle does.
  while (e0 < e1 && a0 < a1 && same(e0, a0)) out.push_back({e0++, a0++});
  std::vector<Pair> tail;
  while (e1 > e0 && a1 > a0 && same(e1 - 1, a1 - 1)) tail.push_back({--e1, --a1});
  if (e0 < e1 && a0 < a1) {
    std::vector<long long> ek, ak;
    for (std::size_t i = e0; i < e1; ++i) ek.push_back(static_cast<long long>(i));
    for (std::size_t j = a0; j < a1; ++j) ak.push_back(static_cast<long long>(j));
    dtl::Diff<long long, std::vector<long long>, ByLine> diff(ek, ak, ByLine(&same));
    // Past dtl's bound on its path table (2 million points), record the rest as deleted and
    // added instead of starting over: a bounded time on any input. (onUnserious() is dtl's
    // older name for enableTrivial(), which dtl 1.20 declares const and so cannot be called.)
    diff.onUnserious();
    diff.compose();
    std::size_t ei = e0, ai = a0;
    for (const auto& [line, info] : diff.getSes().getSequence()) {
      if (info.type != dtl::SES_COMMON) continue;
      const std::size_t ec = e0 + static_cast<std::size_t>(info.beforeIdx - 1);
      const std::size_t ac = a0 + static_cast<std::size_t>(info.afterIdx - 1);
      if (ei < ec || ai < ac) inside(ei, ec, ai, ac, out);
      out.push_back({ec, ac});
      ei = ec + 1;
      ai = ac + 1;
    }
    if (ei < e1 || ai < a1) inside(ei, e1, ai, a1, out);
  } else if (e0 < e1 || a0 < a1) {
    inside(e0, e1, a0, a1, out);
  }
  out.insert(out.end(), tail.rbegin(), tail.rend());
}

// The last resort for a run of lines no pass paired: in order, the longer side's rest alone.
void pair_in_order(std::size_t e0, std::size_t e1, std::size_t a0, std::size_t a1, std::vector<Pair>& out) {
  while (e0 < e1 || a0 < a1) out.push_back({e0 < e1 ? e0++ : kNone, a0 < a1 ? a0++ : kNone});
}

// A line with its decimals masked: text and integers kept. ('\x01' cannot occur in a lab
// output: text_problem refuses control bytes.)
std::string masked_key(const std::vector<Piece>& pieces) {
  std::string key;
  for (const Piece& p : pieces) {
    key += p.kind == Piece::Kind::decimal ? std::string("\x01") : p.text;
    key += '\x02';
  }
  return key;
}

}  // namespace

Comparison compare_outputs(std::string_view expected, std::string_view actual,
                           const Tolerance& tolerance) {
  const std::vector<std::string> e = split_lines(expected), a = split_lines(actual);
  // Each line's key for each pass, computed once: ids for the printed text and for the masked
  // text (a shared table, so equal keys get equal ids), and the pieces for the tolerance.
  std::vector<std::size_t> e_text(e.size()), a_text(a.size()), e_mask(e.size()), a_mask(a.size());
  std::vector<std::vector<Piece>> e_pieces(e.size()), a_pieces(a.size());
  std::unordered_map<std::string, std::size_t> text_ids, mask_ids;
  const auto id = [](std::unordered_map<std::string, std::size_t>& ids, std::string key) {
    return ids.emplace(std::move(key), ids.size()).first->second;
  };
  for (std::size_t i = 0; i < e.size(); ++i) {
    e_pieces[i] = split_line(e[i]);
    e_text[i] = id(text_ids, collapse_whitespace(trim(e[i])));
    e_mask[i] = id(mask_ids, masked_key(e_pieces[i]));
  }
  for (std::size_t j = 0; j < a.size(); ++j) {
    a_pieces[j] = split_line(a[j]);
    a_text[j] = id(text_ids, collapse_whitespace(trim(a[j])));
    a_mask[j] = id(mask_ids, masked_key(a_pieces[j]));
  }
  // Three passes, each inside the runs of lines the one before left unpaired:
  //   1. the lines as printed (whitespace runs collapsed): anchors every line that did not
  //      change, even in a table of numbers only, where one missing row must not shift the rest;
  //   2. lines that match under the tolerance: a last digit that moved is no difference;
  //   3. lines alike but for their decimals: pairs a line with its counterpart whose numbers
  //      are wrong, so the difference names the number.
  // What is still unpaired is paired in order, the longer side's surplus missing or extra.
  const SameLine same_text = [&](std::size_t i, std::size_t j) { return e_text[i] == a_text[j]; };
  const SameLine within_tolerance = [&](std::size_t i, std::size_t j) {
    return pieces_match(e_pieces[i], a_pieces[j], tolerance);
  };
  const SameLine same_mask = [&](std::size_t i, std::size_t j) { return e_mask[i] == a_mask[j]; };
  const Inside third = [&](std::size_t e0, std::size_t e1, std::size_t a0, std::size_t a1, std::vector<Pair>& out) {
    align(e0, e1, a0, a1, same_mask, pair_in_order, out);
  };
  const Inside second = [&](std::size_t e0, std::size_t e1, std::size_t a0, std::size_t a1, std::vector<Pair>& out) {
    align(e0, e1, a0, a1, within_tolerance, third, out);
  };
  std::vector<Pair> pairs;
  align(0, e.size(), 0, a.size(), same_text, second, pairs);

  // The section of every expected line, and the chapter the output names.
  Comparison result;
  std::vector<std::string> sections(e.size());
  std::string section;
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (is_section_header(e[i])) section = section_title(e[i]);
    sections[i] = section;
    const std::string_view line = trim(e[i]);
    if (line.substr(0, 9) == "chapter: " && result.chapter.empty()) {
      result.chapter = std::string(trim(line.substr(9)));
    }
  }
  std::size_t last_expected = 0;  // 1-based: the expected line an extra line follows
  for (const Pair& p : pairs) {
    if (p.e != kNone && p.a != kNone) {
      last_expected = p.e + 1;
      if (e_text[p.e] == a_text[p.a]) continue;
      if (auto reason = compare_pieces(e_pieces[p.e], a_pieces[p.a], tolerance)) {
        result.differences.push_back({p.e + 1, sections[p.e], *reason, e[p.e], a[p.a], false, p.a + 1});
      }
    } else if (p.e != kNone) {
      last_expected = p.e + 1;
      result.differences.push_back({p.e + 1, sections[p.e], "missing: the actual output does not have this line",
                                    e[p.e], "", false, 0});
    } else {
      result.differences.push_back({last_expected, last_expected == 0 ? "" : sections[last_expected - 1],
                                    "extra: the expected output does not have this line", "", a[p.a], false,
                                    p.a + 1});
    }
  }
  return result;
}

std::optional<std::string> extract_section(std::string_view output, std::string_view title) {
  const std::vector<std::string> lines = split_lines(output);
  std::size_t i = 0;
  while (i < lines.size() &&
         !(is_section_header(lines[i]) && bare_title(section_title(lines[i])) == bare_title(title))) {
    ++i;
  }
  if (i == lines.size()) return std::nullopt;
  std::size_t end = i + 1;
  while (end < lines.size() && !is_section_header(lines[end])) ++end;
  while (end > i + 1 && trim(lines[end - 1]).empty()) --end;
  std::string section;
  for (std::size_t k = i; k < end; ++k) section += lines[k] + "\n";
  return section;
}

namespace {

constexpr std::string_view kOpen = "<!-- output: ";
constexpr std::string_view kClose = "<!-- /output -->";

struct ExcerptSpan {
  Excerpt excerpt;
  std::size_t open_line, close_line;  // 0-based indices of the markers
};

std::vector<ExcerptSpan> excerpt_spans(const std::vector<std::string>& lines) {
  std::vector<ExcerptSpan> spans;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = trim(lines[i]);
    if (line.substr(0, kOpen.size()) != kOpen) continue;
    const std::size_t end_marker = line.rfind("-->");
    if (end_marker == std::string_view::npos || end_marker < kOpen.size()) {
      throw std::runtime_error(fmt::format("line {}: an output marker must end with '-->'", i + 1));
    }
    ExcerptSpan span{{std::string(trim(line.substr(kOpen.size(), end_marker - kOpen.size()))), i + 1, ""},
                     i, 0};
    std::size_t j = i + 1;
    while (j < lines.size() && trim(lines[j]) != kClose) ++j;
    if (j == lines.size()) {
      throw std::runtime_error(fmt::format("line {}: output '{}' has no closing {}", i + 1,
                                           span.excerpt.title, kClose));
    }
    // The body is what lies inside the ``` fence between the markers.
    bool in_fence = false;
    for (std::size_t k = i + 1; k < j; ++k) {
      if (trim(lines[k]).substr(0, 3) == "```") {
        in_fence = !in_fence;
        continue;
      }
      if (in_fence) span.excerpt.body += lines[k] + "\n";
    }
    span.close_line = j;
    spans.push_back(std::move(span));
    i = j;
  }
  return spans;
}

}  // namespace

std::vector<Excerpt> find_excerpts(std::string_view chapter) {
  std::vector<Excerpt> excerpts;
  for (ExcerptSpan& s : excerpt_spans(split_lines(chapter))) excerpts.push_back(std::move(s.excerpt));
  return excerpts;
}

// ---------------------------------------------------------------------------------------------
// Quotes

namespace {

constexpr std::string_view kMinus = "\u2212";         // −, the minus sign prose uses
constexpr std::string_view kMiddleDot = "\u00b7";     // ·, as in 4.73·10⁻⁴
constexpr std::string_view kTimes = "\u00d7";         // ×
constexpr std::string_view kSuperMinus = "\u207b";    // ⁻
constexpr std::string_view kAnchorStep = " \u2026 ";  // " … " between the parts of an anchor

bool at(std::string_view s, std::size_t i, std::string_view what) { return s.substr(i, what.size()) == what; }

// A superscript digit at s[i]: its value and its length in bytes, or length 0.
std::size_t superscript_digit(std::string_view s, std::size_t i, int& value) {
  static constexpr std::string_view kDigits[] = {"\u2070", "\u00b9", "\u00b2", "\u00b3", "\u2074",
                                                 "\u2075", "\u2076", "\u2077", "\u2078", "\u2079"};
  for (int d = 0; d < 10; ++d) {
    if (at(s, i, kDigits[d])) {
      value = d;
      return kDigits[d].size();
    }
  }
  return 0;
}

// A superscript exponent at s[i] ("⁻⁴", "²⁴"): its value and length, or length 0.
std::size_t superscript_exponent(std::string_view s, std::size_t i, int& exponent) {
  std::size_t j = i;
  bool negative = false;
  if (at(s, j, kSuperMinus)) {
    negative = true;
    j += kSuperMinus.size();
  }
  int value = 0, digit = 0, count = 0;
  while (const std::size_t n = superscript_digit(s, j, digit)) {
    if (value < 1000) value = value * 10 + digit;
    j += n;
    ++count;
  }
  if (count == 0) return 0;
  exponent = negative ? -value : value;
  return j - i;
}

// A decimal number exactly as written: (−1)^negative · digits · 10^exponent.
struct Decimal {
  bool negative = false;
  std::string digits;  // no leading zeros; "0" for zero
  long exponent = 0;
  std::size_t begin = 0, end = 0;  // where it was found
  std::string text;
};

enum class Notation { output, english, spanish };

std::size_t digits_at(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  return j - i;
}

// The number starting at s[i], if there is one. A sign belongs to it only when no word
// character comes before; digits right after a letter or '_' are part of a name ("block_0",
// "W_1") and are not numbers here.
std::optional<Decimal> decimal_at(std::string_view s, std::size_t i, Notation notation) {
  Decimal d;
  std::size_t j = i;
  const bool after_word = i > 0 && is_word(s[i - 1]);
  if (!after_word) {
    std::size_t sign = 0;
    if (s[j] == '-' || s[j] == '+') sign = 1;
    if (at(s, j, kMinus)) sign = kMinus.size();
    if (sign > 0 && j + sign < s.size() && is_digit(s[j + sign])) {
      d.negative = s[j] != '+';
      j += sign;
    }
  }
  if (j >= s.size() || !is_digit(s[j])) return std::nullopt;
  if (j == i && after_word) return std::nullopt;
  const char group = notation == Notation::spanish ? '.' : ',';
  const char point = notation == Notation::spanish ? ',' : '.';
  std::string integer(s.substr(j, digits_at(s, j)));
  j += integer.size();
  // Thousands groups: a separator followed by exactly three digits, after a first group of 1-3.
  if (integer.size() <= 3) {
    while (j < s.size() && s[j] == group && digits_at(s, j + 1) == 3) {
      integer += s.substr(j + 1, 3);
      j += 4;
    }
  }
  std::string fraction;
  if (j + 1 < s.size() && s[j] == point && is_digit(s[j + 1])) {
    fraction = std::string(s.substr(j + 1, digits_at(s, j + 1)));
    j += 1 + fraction.size();
  }
  long exponent = 0;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    std::size_t k = j + 1;
    bool negative = false;
    if (k < s.size() && (s[k] == '-' || s[k] == '+')) {
      negative = s[k] == '-';
      ++k;
    } else if (at(s, k, kMinus)) {
      negative = true;
      k += kMinus.size();
    }
    const std::size_t n = digits_at(s, k);
    if (n > 0 && n < 6) {
      exponent = std::stol(std::string(s.substr(k, n)));
      if (negative) exponent = -exponent;
      j = k + n;
    }
  } else if (notation != Notation::output) {
    // "4.73·10⁻⁴", "3×10⁵", or a bare power of ten "10⁻⁶".
    int power = 0;
    for (const std::string_view times : {kMiddleDot, kTimes}) {
      if (at(s, j, times) && at(s, j + times.size(), "10")) {
        if (const std::size_t n = superscript_exponent(s, j + times.size() + 2, power)) {
          exponent = power;
          j += times.size() + 2 + n;
          break;
        }
      }
    }
    if (exponent == 0 && integer == "10" && fraction.empty()) {
      if (const std::size_t n = superscript_exponent(s, j, power)) {
        integer = "1";
        exponent = power;
        j += n;
      }
    }
  }
  d.digits = integer + fraction;
  d.exponent = exponent - static_cast<long>(fraction.size());
  const std::size_t first = d.digits.find_first_not_of('0');
  d.digits = first == std::string::npos ? "0" : d.digits.substr(first);
  d.begin = i;
  d.end = j;
  d.text = std::string(s.substr(i, j - i));
  return d;
}

std::vector<Decimal> decimals_in(std::string_view s, Notation notation) {
  std::vector<Decimal> found;
  std::size_t i = 0;
  while (i < s.size()) {
    if (std::optional<Decimal> d = decimal_at(s, i, notation)) {
      i = d->end;
      found.push_back(std::move(*d));
    } else {
      ++i;
    }
  }
  return found;
}

// digits rounded to drop its last `drop` digits, half away from zero (on the magnitude).
std::string round_digits(std::string digits, std::size_t drop) {
  if (drop == 0) return digits;
  if (digits.size() < drop + 1) digits.insert(0, drop + 1 - digits.size(), '0');
  std::string head = digits.substr(0, digits.size() - drop);
  if (digits[head.size()] >= '5') {
    std::size_t k = head.size();
    while (k > 0 && head[k - 1] == '9') head[--k] = '0';
    if (k == 0) {
      head.insert(0, 1, '1');
    } else {
      ++head[k - 1];
    }
  }
  const std::size_t first = head.find_first_not_of('0');
  return first == std::string::npos ? "0" : head.substr(first);
}

// Whether `quoted` is `printed` rounded to the digits `quoted` shows (or the same number, when
// it shows as many digits or more).
bool quotes(const Decimal& quoted, const Decimal& printed) {
  std::string value;
  if (quoted.exponent <= printed.exponent) {
    value = printed.digits == "0" ? "0"
                                  : printed.digits + std::string(static_cast<std::size_t>(printed.exponent - quoted.exponent), '0');
  } else {
    value = round_digits(printed.digits, static_cast<std::size_t>(quoted.exponent - printed.exponent));
  }
  if (value != quoted.digits) return false;
  return value == "0" || quoted.negative == printed.negative;
}

// "quote lab00: GELU | max |exact − tanh|" -> its parts; std::runtime_error when malformed.
void parse_marker(std::string_view content, std::size_t line, Quote& q) {
  const std::string_view keyword = content.substr(0, 5) == "quote" ? "quote" : "cita";
  q.spanish = keyword == "cita";
  std::string_view rest = content.substr(keyword.size());
  const std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    throw std::runtime_error(fmt::format("line {}: a {} marker reads <!-- {}[ NAME]: SECTION | ANCHOR -->; "
                                         "this one has no ':'", line, keyword, keyword));
  }
  q.output = std::string(trim(rest.substr(0, colon)));
  for (const char c : q.output) {
    if (!is_word(c) && c != '-') {
      throw std::runtime_error(fmt::format("line {}: '{}' is not an output name (letters, digits, '-', '_')",
                                           line, q.output));
    }
  }
  rest = rest.substr(colon + 1);
  const std::size_t bar = rest.find('|');
  if (bar == std::string_view::npos) {
    throw std::runtime_error(fmt::format("line {}: a {} marker needs 'SECTION | ANCHOR'; this one has no '|'",
                                         line, keyword));
  }
  q.section = std::string(trim(rest.substr(0, bar)));
  q.anchor = collapse_whitespace(trim(rest.substr(bar + 1)));
  if (q.section.empty() || q.anchor.empty()) {
    throw std::runtime_error(fmt::format("line {}: a {} marker needs a SECTION and an ANCHOR, both non-empty",
                                         line, keyword));
  }
}

// Where a quote marker starts in `line` at or after `from`: "<!--", spaces, "quote" or "cita",
// then a space or ':'. npos when there is none.
std::size_t marker_at(std::string_view line, std::size_t from, std::size_t& content_begin) {
  for (std::size_t open = line.find("<!--", from); open != std::string_view::npos; open = line.find("<!--", open + 4)) {
    std::size_t k = open + 4;
    while (k < line.size() && line[k] == ' ') ++k;
    for (const std::string_view keyword : {std::string_view("quote"), std::string_view("cita")}) {
      const std::size_t after = k + keyword.size();
      if (at(line, k, keyword) && after < line.size() && (line[after] == ' ' || line[after] == ':')) {
        content_begin = k;
        return open;
      }
    }
  }
  return std::string_view::npos;
}

std::string list_numbers(const std::vector<Decimal>& numbers) {
  std::string list;
  for (std::size_t k = 0; k < numbers.size() && k < 8; ++k) list += (k == 0 ? "" : ", ") + numbers[k].text;
  if (numbers.size() > 8) list += ", ...";
  return list;
}

}  // namespace

std::vector<Quote> find_quotes(std::string_view chapter) {
  const std::vector<std::string> lines = split_lines(chapter);
  std::vector<Quote> found;
  bool in_fence = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (trim(line).substr(0, 3) == "```") {
      in_fence = !in_fence;
      continue;
    }
    // Inside a code block or a code span a marker is shown, not read: that is how a page
    // documents the syntax.
    if (in_fence) continue;
    std::size_t content_begin = 0;
    for (std::size_t open = marker_at(line, 0, content_begin); open != std::string::npos;
         open = marker_at(line, open + 4, content_begin)) {
      if (std::count(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(open), '`') % 2 == 1) continue;
      // The marker may go on over the next lines, up to its "-->".
      std::string content = line.substr(content_begin);
      std::size_t close = content.find("-->");
      for (std::size_t j = i + 1; close == std::string::npos && j < lines.size(); ++j) {
        content += " " + lines[j];
        close = content.find("-->");
      }
      if (close == std::string::npos) {
        throw std::runtime_error(fmt::format("line {}: a quote marker has no closing '-->'", i + 1));
      }
      Quote q;
      q.line = i + 1;
      q.text = std::string(trim(line));
      // In a table row a '|' is written \| (a bare one would end the cell), in a marker too.
      std::string marker = content.substr(0, close);
      for (std::size_t bar = marker.find("\\|"); bar != std::string::npos; bar = marker.find("\\|", bar)) {
        marker.erase(bar, 1);
      }
      parse_marker(collapse_whitespace(marker), i + 1, q);
      // The number ends right before the marker, or before the `**`, `_` or backtick closing it.
      std::size_t end = open;
      while (end > 0 && (line[end - 1] == '*' || line[end - 1] == '_' || line[end - 1] == '`')) --end;
      const std::string_view before = std::string_view(line).substr(0, end);
      const std::vector<Decimal> numbers = decimals_in(before, q.spanish ? Notation::spanish : Notation::english);
      if (numbers.empty() || numbers.back().end != end) {
        throw std::runtime_error(fmt::format("line {}: a quote marker must come right after the number it ties "
                                             "(\"2.0e-7<!-- quote: ... -->\")",
                                             i + 1));
      }
      q.number = numbers.back().text;
      found.push_back(std::move(q));
    }
  }
  return found;
}

QuoteCheck check_quote(const Quote& quote, std::string_view output) {
  QuoteCheck result;
  const std::string what = fmt::format("{} quotes {}, section \"{}\"", quote.number,
                                       quote.output.empty() ? "the lab output" : quote.output, quote.section);
  const std::optional<std::string> section = extract_section(output, quote.section);
  if (!section) {
    result.problem = fmt::format("{}, but that output has no such section", what);
    return result;
  }
  const std::optional<Decimal> quoted =
      decimal_at(quote.number, 0, quote.spanish ? Notation::spanish : Notation::english);
  if (!quoted) {
    result.problem = fmt::format("{}, but '{}' is not a number", what, quote.number);
    return result;
  }
  // The anchor's parts, each found on or after the line of the one before it; the numbers
  // after the last part are the candidates.
  std::vector<std::string> parts;
  for (std::string_view rest = quote.anchor;;) {
    const std::size_t next = rest.find(kAnchorStep);
    parts.emplace_back(trim(rest.substr(0, next)));
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + kAnchorStep.size());
  }
  for (const std::string& p : parts) {
    if (p.empty() || p == "^") {
      result.problem = fmt::format("{}, but the anchor \"{}\" has an empty part", what, quote.anchor);
      return result;
    }
  }
  const std::vector<std::string> lines = split_lines(*section);
  std::size_t part = 0, from = 0;
  for (std::size_t i = 0; i < lines.size();) {
    const std::string line = collapse_whitespace(trim(lines[i]));
    const bool at_start = parts[part].front() == '^';  // "^text": the line starts with it
    const std::string_view text = std::string_view(parts[part]).substr(at_start ? 1 : 0);
    const std::size_t found = at_start ? (from == 0 && line.compare(0, text.size(), text) == 0 ? 0 : std::string::npos)
                                       : line.find(text, from);
    if (found == std::string::npos) {
      ++i;
      from = 0;
      continue;
    }
    if (part + 1 < parts.size()) {  // the next part may follow on this same line
      ++part;
      from = found + text.size();
      continue;
    }
    result.output_line = std::string(trim(lines[i]));
    const std::vector<Decimal> candidates =
        decimals_in(std::string_view(line).substr(found + text.size()), Notation::output);
    for (const Decimal& printed : candidates) {
      if (quotes(*quoted, printed)) return result;
    }
    result.problem =
        candidates.empty()
            ? fmt::format("{}, but its line has no number after \"{}\"", what, quote.anchor)
            : fmt::format("{}, but its line has {} after \"{}\" (a quote is the printed number, rounded "
                          "to the digits the quote shows)",
                          what, list_numbers(candidates), quote.anchor);
    return result;
  }
  result.problem = fmt::format("{}, but no line of that section matches \"{}\"", what, quote.anchor);
  return result;
}

Comparison compare_chapter(std::string_view chapter, const ChapterOutputs& outputs, const Tolerance& tolerance) {
  Comparison result;
  for (const Excerpt& excerpt : find_excerpts(chapter)) {
    if (!outputs.own) {
      result.differences.push_back({excerpt.first_line, excerpt.title,
                                    "the chapter embeds this section, but its lab's output was not given", "", ""});
      continue;
    }
    const std::optional<std::string> section = extract_section(*outputs.own, excerpt.title);
    if (!section) {
      result.differences.push_back({excerpt.first_line, excerpt.title,
                                    "the lab output has no section with this title", "", ""});
      continue;
    }
    for (Difference d : compare_outputs(excerpt.body, *section, tolerance).differences) {
      d.line += excerpt.first_line + 1;  // excerpt line k sits k lines below the fence
      d.section = excerpt.title;
      result.differences.push_back(std::move(d));
    }
  }
  for (const Quote& q : find_quotes(chapter)) {
    const std::string* output = nullptr;
    if (q.output.empty()) {
      if (outputs.own) output = &*outputs.own;
    } else if (const auto named = outputs.named.find(q.output); named != outputs.named.end()) {
      output = &named->second;
    }
    if (output == nullptr) {
      const std::string reason =
          q.output.empty()
              ? fmt::format("{} quotes the chapter's own lab output, which was not given (or name the output "
                            "in the marker: <!-- quote lab00: ... -->)",
                            q.number)
              : fmt::format("{} quotes the output '{}', which was not given (--outputs {}=FILE)", q.number,
                            q.output, q.output);
      result.differences.push_back({q.line, q.section, reason, q.text, "", true});
      continue;
    }
    const QuoteCheck check = check_quote(q, *output);
    if (check.problem) result.differences.push_back({q.line, q.section, *check.problem, q.text, check.output_line, true});
  }
  std::stable_sort(result.differences.begin(), result.differences.end(),
                   [](const Difference& a, const Difference& b) { return a.line < b.line; });
  return result;
}

Comparison compare_chapter(std::string_view chapter, std::string_view output, const Tolerance& tolerance) {
  return compare_chapter(chapter, ChapterOutputs{std::string(output), {}}, tolerance);
}

std::vector<std::pair<std::string, std::string>> parse_named_outputs(std::string_view list) {
  std::vector<std::pair<std::string, std::string>> outputs;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals + 1 == item.size()) {
      throw std::runtime_error(fmt::format("'{}' is not NAME=FILE", item));
    }
    const std::string name(item.substr(0, equals));
    for (const char c : name) {
      if (!is_word(c) && c != '-') {
        throw std::runtime_error(fmt::format("'{}' is not an output name (letters, digits, '-', '_')", name));
      }
    }
    for (const auto& [seen, file] : outputs) {
      if (seen == name) throw std::runtime_error(fmt::format("the output name '{}' is given twice", name));
    }
    outputs.emplace_back(name, std::string(item.substr(equals + 1)));
  }
  if (outputs.empty()) throw std::runtime_error("no NAME=FILE given");
  return outputs;
}

std::string update_chapter(std::string_view chapter, std::string_view output) {
  const std::vector<std::string> lines = split_lines(chapter);
  const std::vector<ExcerptSpan> spans = excerpt_spans(lines);
  std::string updated;
  std::size_t next = 0;
  for (const ExcerptSpan& s : spans) {
    for (; next <= s.open_line; ++next) updated += lines[next] + "\n";
    const std::optional<std::string> section = extract_section(output, s.excerpt.title);
    if (!section) {
      throw std::runtime_error(fmt::format("line {}: the lab output has no section '{}'",
                                           s.open_line + 1, s.excerpt.title));
    }
    updated += "```text\n" + *section + "```\n";
    next = s.close_line;
  }
  for (; next < lines.size(); ++next) updated += lines[next] + "\n";
  return updated;
}

std::string check_tolerance_text(const std::string& text) {
  double value = 0.0;
  const char* last = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), last, value);
  if (ec != std::errc() || stop != last || text.empty()) return fmt::format("'{}' is not a number", text);
  if (!(value >= 0.0) || !std::isfinite(value)) {
    return fmt::format("'{}' is not a tolerance: give a finite number >= 0", text);
  }
  return "";
}

}  // namespace labdiff
