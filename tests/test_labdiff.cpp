// labdiff must fail on what an instructor cares about and pass on what a CPU may change.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "compare.hpp"
#include "run_binary.hpp"
#include "text.hpp"

using namespace labdiff;

namespace {

const std::string kExpected =
    "Lab 01 — Assemble Mini-GPT\n"
    "chapter: labs/01-assemble-mini-gpt/README.md\n"
    "\n"
    "== 1. Shape trace ==\n"
    "block_0.attn.scores  (4, 8, 16) · (4, 16, 8) -> (4, 8, 8)   q·kᵀ/√16\n"
    "parameters: 103680\n"
    "\n"
    "== 2. Forward vs reference ==\n"
    "logit[7][works] = -0.260070\n"
    "max |model − reference| = 3.1e-07 <= 1.0e-05   PASS\n";

bool same(const std::string& expected, const std::string& actual) {
  return compare_outputs(expected, actual, Tolerance{}).same();
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("labdiff passes identical outputs", "[labdiff]") {
  CHECK(same(kExpected, kExpected));
}

TEST_CASE("labdiff passes a last-digit change within tolerance", "[labdiff]") {
  CHECK(same(kExpected, replace(kExpected, "-0.260070", "-0.260071")));
  CHECK(same(kExpected, replace(kExpected, "3.1e-07", "4.4e-07")));
  // Alignment that moves with a sign is whitespace, not content.
  CHECK(same(kExpected, replace(kExpected, "block_0.attn.scores  (4", "block_0.attn.scores (4")));
}

TEST_CASE("labdiff fails on a changed word", "[labdiff]") {
  const Comparison c = compare_outputs(kExpected, replace(kExpected, "PASS", "FAIL"), Tolerance{});
  REQUIRE(c.differences.size() == 1);
  CHECK(c.differences[0].line == 10);
  CHECK(c.differences[0].section == "2. Forward vs reference");
  CHECK(c.chapter == "labs/01-assemble-mini-gpt/README.md");
  CHECK_FALSE(same(kExpected, replace(kExpected, "q·kᵀ/√16", "q·k/√16")));
}

TEST_CASE("labdiff fails on a changed count or shape", "[labdiff]") {
  CHECK_FALSE(same(kExpected, replace(kExpected, "103680", "103681")));
  CHECK_FALSE(same(kExpected, replace(kExpected, "(4, 8, 8)", "(4, 8, 9)")));
  CHECK_FALSE(same(kExpected, replace(kExpected, "block_0", "block_1")));
}

TEST_CASE("labdiff fails on a missing or an extra line", "[labdiff]") {
  const Comparison missing = compare_outputs(kExpected, replace(kExpected, "parameters: 103680\n", ""), Tolerance{});
  CHECK_FALSE(missing.same());
  CHECK_FALSE(same(kExpected, kExpected + "one more line\n"));
}

TEST_CASE("labdiff fails on a number outside tolerance", "[labdiff]") {
  // 1e-5 + 1e-4·0.26 = 3.6e-5 allowed; 1e-4 is not.
  CHECK_FALSE(same(kExpected, replace(kExpected, "-0.260070", "-0.260170")));
  CHECK_FALSE(same(kExpected, replace(kExpected, "-0.260070", "0.260070")));  // a sign flip
  CHECK_FALSE(same(kExpected, replace(kExpected, "-0.260070", "nan")));
  // A tighter tolerance turns the last-digit change into a failure: the rule is really applied.
  CHECK_FALSE(compare_outputs(kExpected, replace(kExpected, "-0.260070", "-0.260071"), Tolerance{0, 0}).same());
}

TEST_CASE("numbers are split from names and signs", "[labdiff]") {
  const std::vector<Piece> p = split_line("W_1 (64, 256) x-1 -0.5 1e-05 −∞");
  REQUIRE(p.size() >= 8);
  CHECK(p[0].text == "W_");
  CHECK(p[1].kind == Piece::Kind::integer);
  CHECK(p[1].text == "1");
  // "x-1": the '-' follows a word character, so it is text and 1 is unsigned.
  bool found_signed_half = false, found_exponent = false;
  for (const Piece& piece : p) {
    if (piece.kind == Piece::Kind::decimal && piece.value == -0.5) found_signed_half = true;
    if (piece.kind == Piece::Kind::decimal && piece.value == 1e-05) found_exponent = true;
    CHECK(piece.text != "-1");
  }
  CHECK(found_signed_half);
  CHECK(found_exponent);
}

TEST_CASE("chapter excerpts are checked against the output's sections", "[labdiff]") {
  const std::string chapter =
      "# Lab 01\n"
      "Some prose.\n"
      "<!-- output: Forward vs reference -->\n"
      "```text\n"
      "== 2. Forward vs reference ==\n"
      "logit[7][works] = -0.260070\n"
      "max |model − reference| = 3.1e-07 <= 1.0e-05   PASS\n"
      "```\n"
      "<!-- /output -->\n"
      "More prose.\n";
  CHECK(compare_chapter(chapter, kExpected, Tolerance{}).same());
  const Comparison drifted = compare_chapter(chapter, replace(kExpected, "PASS", "FAIL"), Tolerance{});
  REQUIRE(drifted.differences.size() == 1);
  CHECK(drifted.differences[0].line == 7);  // the chapter's own line number
  // Excerpts name sections without their numbers; an unknown title is a difference.
  CHECK_FALSE(compare_chapter(replace(chapter, "output: Forward", "output: Backward"), kExpected, Tolerance{}).same());
  // The numbered title matches too.
  CHECK(compare_chapter(replace(chapter, "output: Forward", "output: 2. Forward"), kExpected, Tolerance{}).same());

  // update_chapter rewrites the excerpt from the output and keeps the prose.
  const std::string updated = update_chapter(chapter, replace(kExpected, "-0.260070", "-0.999999"));
  CHECK(updated.find("-0.999999") != std::string::npos);
  CHECK(updated.find("More prose.") != std::string::npos);
  CHECK(compare_chapter(updated, replace(kExpected, "-0.260070", "-0.999999"), Tolerance{}).same());
}

// ---------------------------------------------------------------------------------------------
// Quotes: numbers in a chapter's prose tied to the output line they come from.

namespace {

const std::string kGeluOutput =
    "Lab 00 · Block by hand\n"
    "\n"
    "== 13. GELU ==\n"
    "max |exact − tanh| over the block's 32 GELU inputs: 4.10e-04 at u = 2.425315 (position 1, column 12)\n"
    "\n"
    "== 17. Exact vs tanh GELU ==\n"
    "     x       exact        tanh   exact−tanh\n"
    "  -1.0   -0.158655   -0.158808     0.000153\n"
    "   1.0    0.841345    0.841192     0.000153\n"
    "sweep of [−6, 6] in steps of 0.001 (12001 points): max |exact − tanh| = 4.732e-04 at x = ±2.699\n"
    "\n"
    "== 18. Parameters ==\n"
    "reference: plain loops in double, same 103,680 weights\n"
    "max |model − reference| over the 512 logits: 2.0e-07\n";

// A chapter with one quote, `number<!-- marker -->`, in a sentence.
std::string chapter_quoting(const std::string& number, const std::string& marker) {
  return "# Theory\n\nThe lab finds " + number + "<!-- " + marker + " --> and says so.\n";
}

Comparison check_quotes(const std::string& chapter) {
  return compare_chapter(chapter, ChapterOutputs{std::nullopt, {{"lab00", kGeluOutput}}}, Tolerance{});
}

bool quote_holds(const std::string& number, const std::string& marker) {
  return check_quotes(chapter_quoting(number, marker)).same();
}

}  // namespace

TEST_CASE("a quote is the printed number, rounded to the digits it shows", "[labdiff][quotes]") {
  const std::string sweep = "quote lab00: Exact vs tanh GELU | max |exact − tanh| =";
  CHECK(quote_holds("4.732e-04", sweep));
  CHECK(quote_holds("4.73·10⁻⁴", sweep));
  CHECK(quote_holds("4.7e−4", sweep));        // a minus sign in the exponent
  CHECK(quote_holds("5·10⁻⁴", sweep));
  CHECK(quote_holds("2.70", sweep));          // the other number after the anchor: 2.699
  CHECK(quote_holds("**2.699**", sweep));     // bold around the number
  CHECK(quote_holds("`4.732e-04`", sweep));   // code around it
  CHECK(quote_holds("0.000153", "quote lab00: Exact vs tanh GELU | 1.0"));
  CHECK(quote_holds("−0.158655", "quote lab00: Exact vs tanh GELU | -1.0"));  // the sign counts
  CHECK_FALSE(quote_holds("0.158655", "quote lab00: Exact vs tanh GELU | -1.0"));
  CHECK(quote_holds("12,001", "quote lab00: Exact vs tanh GELU | steps of 0.001 ("));
  CHECK(quote_holds("103,680", "quote lab00: Parameters | same"));
  CHECK(quote_holds("2e-7", "quote lab00: Parameters | over the 512 logits:"));
  CHECK(quote_holds("2.0e-7", "quote lab00: Parameters | over the 512 logits:"));
  CHECK(quote_holds("2.00·10⁻⁷", "quote lab00: Parameters | over the 512 logits:"));  // more digits, same number
  // The Spanish way: decimal comma, thousands with a point.
  CHECK(quote_holds("4,73·10⁻⁴", "cita lab00: Exact vs tanh GELU | max |exact − tanh| ="));
  CHECK(quote_holds("103.680", "cita lab00: Parameters | same"));
  CHECK_FALSE(quote_holds("103.680", "quote lab00: Parameters | same"));  // in English that is 103.68
  // Whitespace runs count as one space, in the anchor and in the output.
  CHECK(quote_holds("-0.158808", "quote lab00: Exact vs tanh GELU | -1.0 -0.158655"));
}

TEST_CASE("an anchor can pin the start of a line, or go through several lines", "[labdiff][quotes]") {
  // "1.0" is also inside "-1.0", the line before: "^" makes it the start of the line.
  CHECK_FALSE(quote_holds("0.841345", "quote lab00: Exact vs tanh GELU | 1.0"));
  CHECK(quote_holds("0.841345", "quote lab00: Exact vs tanh GELU | ^1.0"));
  // "a … b": the first b at or after the first a, on its line or a later one.
  CHECK(quote_holds("0.000153", "quote lab00: Exact vs tanh GELU | exact−tanh … 1.0 0.841345"));
  CHECK(quote_holds("0.841192", "quote lab00: Exact vs tanh GELU | ^1.0 … 0.841345"));
  CHECK(quote_holds("2.0e-07", "quote lab00: Parameters | reference: … max |model − reference| …  logits:"));
  CHECK_FALSE(quote_holds("103,680", "quote lab00: Parameters | logits: … same"));  // never back up
  // In a table row a marker writes its '|' as "\|", as the row's text must.
  CHECK(check_quotes("| gap | 4.73·10⁻⁴<!-- quote lab00: Exact vs tanh GELU \\| max \\|exact − tanh\\| = --> |\n").same());
}

TEST_CASE("a drifted quote fails, naming the chapter line, the quote and the output line", "[labdiff][quotes]") {
  // The two drifts issue 13 found: 1.7e-7 where the lab prints 2.0e-07, 4.09e-4 for 4.10e-04.
  const std::string chapter =
      "# Lab\n"
      "\n"
      "The measured worst difference is 1.7e-7<!-- quote lab00: Parameters | over the 512 logits: -->.\n"
      "The block sees at most 4.09·10⁻⁴<!-- quote lab00: GELU | max |exact − tanh| over -->.\n";
  const Comparison c = check_quotes(chapter);
  REQUIRE(c.differences.size() == 2);
  const Difference& first = c.differences[0];
  CHECK(first.quote);
  CHECK(first.line == 3);
  CHECK(first.expected == "The measured worst difference is 1.7e-7<!-- quote lab00: Parameters | over the 512 logits: -->.");
  CHECK(first.actual == "max |model − reference| over the 512 logits: 2.0e-07");
  CHECK(first.reason.find("1.7e-7 quotes lab00") != std::string::npos);
  CHECK(first.reason.find("2.0e-07") != std::string::npos);
  // Rounding, not a tolerance: 4.10e-04 is 4.10·10⁻⁴, and no rounding of it gives 4.09·10⁻⁴.
  CHECK(c.differences[1].line == 4);
  CHECK(c.differences[1].reason.find("4.09·10⁻⁴") != std::string::npos);
  CHECK(c.differences[1].actual.find("4.10e-04") != std::string::npos);
  // Fixed, both pass.
  CHECK(check_quotes(replace(replace(chapter, "1.7e-7", "2.0e-7"), "4.09·10⁻⁴", "4.10·10⁻⁴")).same());
}

TEST_CASE("a quote names an output, a section and a line that must exist", "[labdiff][quotes]") {
  // No such section, no line with the anchor, no number after it.
  CHECK_FALSE(quote_holds("4.10e-04", "quote lab00: Backward | max |exact − tanh| over"));
  CHECK_FALSE(quote_holds("4.10e-04", "quote lab00: GELU | max |exact + tanh| over"));
  const Comparison no_number = check_quotes(chapter_quoting("12", "quote lab00: GELU | (position 1, column 12)"));
  REQUIRE(no_number.differences.size() == 1);
  CHECK(no_number.differences[0].reason.find("no number after") != std::string::npos);
  // An output that was not given is a difference, never a skipped quote.
  const Comparison missing = check_quotes(chapter_quoting("4.10e-04", "quote lab07: GELU | over"));
  REQUIRE(missing.differences.size() == 1);
  CHECK(missing.differences[0].reason.find("--outputs lab07=FILE") != std::string::npos);
  // A quote without a name is of the chapter's own lab, the output given beside the chapter.
  const std::string own = chapter_quoting("4.10e-04", "quote: GELU | max |exact − tanh| over");
  CHECK(compare_chapter(own, kGeluOutput, Tolerance{}).same());
  CHECK_FALSE(check_quotes(own).same());  // a theory chapter has no lab of its own
}

TEST_CASE("a quote marker that cannot be read is refused", "[labdiff][quotes]") {
  CHECK_THROWS_WITH(find_quotes("The lab says<!-- quote lab00: GELU | over --> so.\n"),
                    Catch::Contains("line 1") && Catch::Contains("right after the number"));
  CHECK_THROWS_WITH(find_quotes("It is 4.1e-4<!-- quote lab00: GELU --> here.\n"), Catch::Contains("no '|'"));
  CHECK_THROWS_WITH(find_quotes("It is 4.1e-4<!-- quote lab00 GELU | over --> here.\n"), Catch::Contains("no ':'"));
  CHECK_THROWS_WITH(find_quotes("It is 4.1e-4<!-- quote lab00: GELU | over\n\nno end\n"),
                    Catch::Contains("no closing"));
  // In a code block or a code span a marker is an example of the syntax, not a quote.
  CHECK(find_quotes("```text\n4.1e-4<!-- quote lab00: GELU | over -->\n```\n").empty());
  CHECK(find_quotes("Write `4.1e-4<!-- quote: GELU | over -->` after a number.\n").empty());
  // A marker may go on over the next line; other comments are not quotes.
  const std::vector<Quote> q = find_quotes(
      "At most 4.1e−4<!-- quote lab00: GELU |\n  max |exact − tanh| over --> here. <!-- a note -->\n");
  REQUIRE(q.size() == 1);
  CHECK(q[0].number == "4.1e−4");
  CHECK(q[0].output == "lab00");
  CHECK(q[0].section == "GELU");
  CHECK(q[0].anchor == "max |exact − tanh| over");
  CHECK(q[0].line == 1);
}

TEST_CASE("updating a chapter's excerpts leaves its quotes as written", "[labdiff][quotes]") {
  const std::string chapter =
      "It prints 4.10e-04<!-- quote: GELU | over the block's -->.\n"
      "<!-- output: GELU -->\n"
      "```text\n"
      "old\n"
      "```\n"
      "<!-- /output -->\n";
  const std::string updated = update_chapter(chapter, kGeluOutput);
  CHECK(updated.find("It prints 4.10e-04<!-- quote: GELU | over the block's -->.") != std::string::npos);
  CHECK(compare_chapter(updated, kGeluOutput, Tolerance{}).same());
  // The same output with the number moved: the excerpt is rewritten, the quote now fails.
  const std::string moved = replace(kGeluOutput, "4.10e-04", "4.20e-04");
  const Comparison c = compare_chapter(update_chapter(chapter, moved), moved, Tolerance{});
  REQUIRE(c.differences.size() == 1);
  CHECK(c.differences[0].quote);
}

TEST_CASE("labdiff's --outputs option lists NAME=FILE pairs", "[labdiff][quotes]") {
  const auto pairs = parse_named_outputs("lab00=a.txt,lab02-gpt2-small=build/b.txt");
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[1].first == "lab02-gpt2-small");
  CHECK(pairs[1].second == "build/b.txt");
  CHECK_THROWS_WITH(parse_named_outputs("lab00"), Catch::Contains("not NAME=FILE"));
  CHECK_THROWS_WITH(parse_named_outputs("a=x,a=y"), Catch::Contains("given twice"));
  CHECK_THROWS_WITH(parse_named_outputs("a b=x"), Catch::Contains("not an output name"));
}

TEST_CASE("labdiff --chapter prints a drifted quote with the chapter line and the output line", "[labdiff][quotes]") {
  const std::filesystem::path chapter = test_support::temp_path("quoting-chapter.md");
  const std::filesystem::path output = test_support::temp_path("quoted-output.txt");
  std::ofstream(chapter) << "# Theory\n\nThe worst difference is 1.7e-7<!-- quote lab00: Parameters | over the 512 logits: -->.\n";
  std::ofstream(output) << kGeluOutput;
  const std::string outputs = "lab00=" + output.string();

  const test_support::Run drifted =
      test_support::run("labdiff --chapter " + chapter.string() + " --outputs " + test_support::quoted(outputs));
  CHECK(drifted.status == 1);
  CHECK_THAT(drifted.output, Catch::Contains(chapter.string() + ":3: 1.7e-7 quotes lab00, section \"Parameters\"") &&
                                 Catch::Contains("has 2.0e-07 after") &&
                                 Catch::Contains("  chapter: The worst difference is 1.7e-7<!--") &&
                                 Catch::Contains("  output:  max |model − reference| over the 512 logits: 2.0e-07"));

  std::ofstream(chapter) << "# Theory\n\nThe worst difference is 2.0e-7<!-- quote lab00: Parameters | over the 512 logits: -->.\n";
  CHECK(test_support::run("labdiff --chapter " + chapter.string() + " --outputs " + test_support::quoted(outputs)).status == 0);
  // A chapter without a lab of its own needs --outputs; --outputs needs --chapter.
  CHECK(test_support::run("labdiff --chapter " + chapter.string()).status == 2);
  CHECK(test_support::run("labdiff " + chapter.string() + " --outputs " + test_support::quoted(outputs)).status == 2);
  std::filesystem::remove(chapter);
  std::filesystem::remove(output);
}

// ---------------------------------------------------------------------------------------------
// Alignment: an inserted or deleted line is one difference, and the lines after it are still
// compared with their counterparts (issue 14, item 8).

namespace {

// An output of `rows` lines in two sections, every line different: "row 17: 0.017340 (17, 64)".
std::string numbered_output(std::size_t rows) {
  std::string text = "Lab 99 · Alignment\n\n== 1. First ==\n";
  for (std::size_t i = 0; i < rows; ++i) {
    if (i == rows / 2) text += "\n== 2. Second ==\n";
    text += "row " + std::to_string(i) + ": 0." + std::to_string(100000 + i * 17).substr(1) + " (" + std::to_string(i) +
            ", 64)\n";
  }
  return text + "[PASS] the rows are in order: " + std::to_string(rows) + " of " + std::to_string(rows) + "\n";
}

std::string without_line(const std::string& text, std::size_t line) {  // 1-based
  std::vector<std::string> lines = split_lines(text);
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(line - 1));
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

std::string with_line(const std::string& text, std::size_t after, const std::string& inserted) {
  std::vector<std::string> lines = split_lines(text);
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(after), inserted);
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("labdiff reports a deleted line once and goes on comparing", "[labdiff][align]") {
  const std::string expected = numbered_output(400);
  const Comparison deleted = compare_outputs(expected, without_line(expected, 50), Tolerance{});
  REQUIRE(deleted.differences.size() == 1);  // it was 353 before the alignment
  CHECK(deleted.differences[0].line == 50);
  CHECK(deleted.differences[0].actual_line == 0);
  CHECK(deleted.differences[0].reason.find("missing") == 0);
  CHECK(deleted.differences[0].section == "1. First");

  // A wrong number after the deleted line: both found, the number on its own line.
  const std::string moved = replace(without_line(expected, 50), "row 300: 0.05100", "row 300: 0.95100");
  const Comparison two = compare_outputs(expected, moved, Tolerance{});
  REQUIRE(two.differences.size() == 2);
  CHECK(two.differences[1].line == 306);         // row 300 sits below 3 header lines and 2 of the middle
  CHECK(two.differences[1].actual_line == 305);  // one line up in the actual output
  CHECK(two.differences[1].section == "2. Second");
  CHECK(two.differences[1].reason.find("number 0.05100 became 0.95100") == 0);
}

TEST_CASE("labdiff reports an inserted line once, where it was inserted", "[labdiff][align]") {
  const std::string expected = numbered_output(400);
  const Comparison inserted = compare_outputs(expected, with_line(expected, 120, "debug: x = 0.5"), Tolerance{});
  REQUIRE(inserted.differences.size() == 1);
  CHECK(inserted.differences[0].line == 120);         // after expected line 120
  CHECK(inserted.differences[0].actual_line == 121);
  CHECK(inserted.differences[0].expected.empty());
  CHECK(inserted.differences[0].actual == "debug: x = 0.5");
  CHECK(inserted.differences[0].reason.find("extra") == 0);
  // Several lines at once, at the start and at the end.
  const std::string around = "a first line\n" + with_line(expected, split_lines(expected).size(), "one more\nand more");
  CHECK(compare_outputs(expected, around, Tolerance{}).differences.size() == 3);
}

TEST_CASE("a deleted row of decimals leaves the other rows paired with their own", "[labdiff][align]") {
  // Rows with no word or integer to tell them apart: the lines as printed anchor them.
  std::string table;
  for (int i = 0; i < 12; ++i) table += "  0." + std::to_string(300000 + i * 7919) + "  -0." + std::to_string(700000 - i * 131) + "\n";
  const Comparison c = compare_outputs(table, without_line(table, 4), Tolerance{});
  REQUIRE(c.differences.size() == 1);
  CHECK(c.differences[0].line == 4);
  // A row deleted next to a row whose last digit moved (within the tolerance): one difference.
  const std::string drifted = replace(without_line(table, 4), "0.331676", "0.331677");
  CHECK(compare_outputs(table, drifted, Tolerance{}).differences.size() == 1);
}

TEST_CASE("a block of wrong numbers is reported line by line, each against its own line", "[labdiff][align]") {
  const std::string expected = numbered_output(40);
  std::string actual = expected;
  for (int i = 10; i < 20; ++i) actual = replace(actual, "row " + std::to_string(i) + ": 0.", "row " + std::to_string(i) + ": 1.");
  const Comparison c = compare_outputs(expected, actual, Tolerance{});
  REQUIRE(c.differences.size() == 10);
  for (const Difference& d : c.differences) {
    CHECK(d.line == d.actual_line);
    CHECK_FALSE(d.expected.empty());
    CHECK_FALSE(d.actual.empty());
    CHECK(d.reason.find("number ") == 0);
  }
  // A count that changed pairs with its line too (integers are compared exactly).
  const Comparison count = compare_outputs(expected, replace(expected, "(17, 64)", "(17, 65)"), Tolerance{});
  REQUIRE(count.differences.size() == 1);
  CHECK(count.differences[0].reason == "count '64' became '65'");
}

// ---------------------------------------------------------------------------------------------
// Untrusted text: what a student hands in may be anything.

TEST_CASE("a lab output is UTF-8 text without control bytes, of a bounded number of lines", "[labdiff][untrusted]") {
  CHECK_FALSE(text_problem("Lab 00 · Block — √(σ² + ε) ≈ 1e-5, θ₀, 🙂\tok\r\n"));
  CHECK(text_problem(std::string("ab\ncd\0ef", 8)).value() == "binary data: a NUL byte at line 2, column 3");
  CHECK(text_problem("\x7f" "ELF").value() == "binary data: the control byte 0x7F at line 1, column 1");
  CHECK(text_problem("\x1b[31mred").value().find("control byte 0x1B") != std::string::npos);
  CHECK(text_problem("caf\xe9\n").value() == "not UTF-8 text: the byte 0xE9 at line 1, column 4");
  CHECK(text_problem("\xc0\x80").has_value());        // an overlong NUL
  CHECK(text_problem("\xed\xa0\x80").has_value());    // a UTF-16 surrogate
  CHECK(text_problem("\xf4\x90\x80\x80").has_value());  // past U+10FFFF
  CHECK(text_problem("\xe2\x82").has_value());        // cut short
  std::string many(kMaxOutputLines, '\n');
  CHECK_FALSE(text_problem(many));                    // 100,000 lines: the most a lab output may have
  many += "one more";
  CHECK(text_problem(many).value().find("more than 100000 lines") == 0);
}

TEST_CASE("printable escapes what a terminal would act on and shortens a long line", "[labdiff][untrusted]") {
  CHECK(printable("σ = 0.5\t(ok)") == "σ = 0.5\t(ok)");
  CHECK(printable(std::string("a\0b\xff\x1b", 5)) == "a\\x00b\\xFF\\x1B");
  const std::string long_line(1'000'000, 'x');
  const std::string shown = printable(long_line, 100);
  CHECK(shown.size() < 150);
  CHECK(shown.find("… (999900 more bytes)") != std::string::npos);
}

TEST_CASE("a file that is not a lab output is read only far enough to say so", "[labdiff][untrusted]") {
  namespace fs = std::filesystem;
  const fs::path big = test_support::temp_path("100MB.txt");
  { std::ofstream(big) << ""; }
  fs::resize_file(big, 100u << 20);  // sparse: no 100 MB written to the disk
  const LabText too_large = read_lab_output(big);
  CHECK(too_large.text.empty());
  CHECK(too_large.problem.value() == "too large: 100.0 MiB, and a lab output is at most 8.0 MiB: not read");

  const fs::path bom = test_support::temp_path("bom.txt");
  std::ofstream(bom) << "\xEF\xBB\xBFLab 00\n";
  CHECK(read_lab_output(bom).text == "Lab 00\n");  // an editor's byte order mark is dropped
  CHECK_THROWS_WITH(read_lab_output(test_support::temp_path("no-such-file")), Catch::Contains("cannot read"));
  fs::remove(big);
  fs::remove(bom);
}

TEST_CASE("labdiff gives junk, a 100 MB file, a million-character line and bad UTF-8 a verdict", "[labdiff][untrusted]") {
  namespace fs = std::filesystem;
  const fs::path expected = test_support::temp_path("untrusted-expected.txt");
  const fs::path actual = test_support::temp_path("untrusted-actual.txt");
  std::ofstream(expected) << kExpected;
  const auto labdiff_on = [&](const std::string& content) {
    { std::ofstream(actual, std::ios::binary) << content; }
    return test_support::run("labdiff " + expected.string() + " " + actual.string());
  };
  const test_support::Run junk = labdiff_on(std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10));
  CHECK(junk.status == 1);
  CHECK_THAT(junk.output, Catch::Contains("does not match") && Catch::Contains("it is not a lab output (binary data"));
  const test_support::Run utf8 = labdiff_on("Lab 01 \xff\xfe Assemble\n");
  CHECK(utf8.status == 1);
  CHECK_THAT(utf8.output, Catch::Contains("not UTF-8 text: the byte 0xFF at line 1, column 8"));
  // A line of a million characters is text: compared, and shown shortened.
  const test_support::Run long_line = labdiff_on(std::string(1'000'000, '7') + "\n" + kExpected);
  CHECK(long_line.status == 1);
  CHECK_THAT(long_line.output, Catch::Contains("1 difference") && Catch::Contains("extra") &&
                                   Catch::Contains("more bytes)"));
  CHECK(long_line.output.size() < 5000);
  { std::ofstream(actual) << ""; }
  fs::resize_file(actual, 100u << 20);
  const test_support::Run big = test_support::run("labdiff " + expected.string() + " " + actual.string());
  CHECK(big.status == 1);
  CHECK_THAT(big.output, Catch::Contains("too large: 100.0 MiB"));
  // The reference itself must be a lab output: that is an error, not a verdict.
  CHECK(test_support::run("labdiff " + actual.string() + " " + expected.string()).status == 2);
  // And one deleted line is one difference, from the command line too.
  const test_support::Run deleted = labdiff_on(replace(kExpected, "parameters: 103680\n", ""));
  CHECK(deleted.status == 1);
  CHECK_THAT(deleted.output, Catch::Contains("labdiff: 1 difference") && Catch::Contains("line 6, section \"1. Shape trace\""));
  fs::remove(expected);
  fs::remove(actual);
}
