#include "compare.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <stdexcept>

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

std::optional<std::string> compare_lines(std::string_view expected, std::string_view actual,
                                         const Tolerance& tolerance) {
  const std::vector<Piece> e = split_line(expected), a = split_line(actual);
  const std::size_t n = std::min(e.size(), a.size());
  for (std::size_t k = 0; k < n; ++k) {
    if (e[k].kind != a[k].kind) {
      return fmt::format("'{}' became '{}'", e[k].text, a[k].text);
    }
    switch (e[k].kind) {
      case Piece::Kind::text:
      case Piece::Kind::integer:
        if (e[k].text != a[k].text) {
          return fmt::format("{} '{}' became '{}'", e[k].kind == Piece::Kind::text ? "text" : "count",
                             e[k].text, a[k].text);
        }
        break;
      case Piece::Kind::decimal: {
        const double diff = std::abs(e[k].value - a[k].value);
        const double allowed = tolerance.abs + tolerance.rel * std::abs(e[k].value);
        // Written so that NaN fails: only a diff that is <= allowed passes.
        if (!(diff <= allowed)) {
          return fmt::format("number {} became {}: |diff| = {:.3g} > {:.3g}", e[k].text, a[k].text,
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

Comparison compare_outputs(std::string_view expected, std::string_view actual,
                           const Tolerance& tolerance) {
  const std::vector<std::string> e = split_lines(expected), a = split_lines(actual);
  Comparison result;
  std::string section;
  for (std::size_t i = 0; i < std::max(e.size(), a.size()); ++i) {
    if (i < e.size()) {
      if (is_section_header(e[i])) section = section_title(e[i]);
      const std::string_view line = trim(e[i]);
      if (line.substr(0, 9) == "chapter: " && result.chapter.empty()) {
        result.chapter = std::string(trim(line.substr(9)));
      }
    }
    if (i >= a.size()) {
      result.differences.push_back({i + 1, section,
                                    fmt::format("missing: the actual output ends after {} lines", a.size()),
                                    e[i], ""});
    } else if (i >= e.size()) {
      result.differences.push_back({i + 1, section,
                                    fmt::format("extra: the expected output ends after {} lines", e.size()),
                                    "", a[i]});
    } else if (auto reason = compare_lines(e[i], a[i], tolerance)) {
      result.differences.push_back({i + 1, section, *reason, e[i], a[i]});
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

Comparison compare_chapter(std::string_view chapter, std::string_view output,
                           const Tolerance& tolerance) {
  Comparison result;
  for (const Excerpt& excerpt : find_excerpts(chapter)) {
    const std::optional<std::string> section = extract_section(output, excerpt.title);
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
  return result;
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
