// labdiff must fail on what an instructor cares about and pass on what a CPU may change.
#include <catch2/catch.hpp>

#include "compare.hpp"

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
