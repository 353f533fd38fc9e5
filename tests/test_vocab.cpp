// The 64-token vocabulary and the tokenizer (CONVENTIONS.md §11).
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "minimodel/errors.hpp"
#include "minimodel/vocab.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;

TEST_CASE("the vocabulary has 64 unique tokens with the specials first", "[vocab]") {
  const Vocabulary& v = Vocabulary::builtin();
  REQUIRE(v.size() == 64);
  std::set<std::string> words;
  for (TokenId id = 0; id < 64; ++id) words.insert(v.word(id));
  CHECK(words.size() == 64);
  CHECK(v.word(0) == "<pad>");
  CHECK(v.word(1) == "<bos>");
  CHECK(v.word(2) == "<eos>");
  CHECK(v.word(3) == "<unk>");
  for (const char* w : {"I", "you", "he", "she", "it", "we", "they", ",", ".", "work", "works",
                        "worked", "go", "goes", "went"}) {
    CHECK(v.contains(w));
  }
  CHECK(v.kind(v.id("works")) == "verb.3sg");
  CHECK(v.kind(v.id("he")) == "pronoun");
}

TEST_CASE("the built-in vocabulary is exactly src/minimodel/vocab.tsv", "[vocab]") {
  std::ifstream file(MINIMODEL_SOURCE_DIR "/src/minimodel/vocab.tsv");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  const Vocabulary parsed = Vocabulary::parse(text.str());
  REQUIRE(parsed.size() == Vocabulary::builtin().size());
  for (TokenId id = 0; id < static_cast<TokenId>(parsed.size()); ++id) {
    CHECK(parsed.word(id) == Vocabulary::builtin().word(id));
  }
}

TEST_CASE("the canonical sequence encodes to fixed ids and decodes back", "[vocab]") {
  const Vocabulary& v = Vocabulary::builtin();
  const std::vector<TokenId> ids = v.encode(kCanonicalText);
  // <bos>=1, I=4, work=13, ','=11, you=5, he=6 (the rows of vocab.tsv).
  CHECK(ids == std::vector<TokenId>{1, 4, 13, 11, 5, 13, 11, 6});
  CHECK(v.decode(ids) == kCanonicalText);
  CHECK(v.encode("  he\twork\n ") == std::vector<TokenId>{6, 13});  // any whitespace splits
}

TEST_CASE("bad tokenizer input is a clear error", "[vocab]") {
  const Vocabulary& v = Vocabulary::builtin();
  CHECK_THROWS_AS(v.encode("I work hard"), InputError);
  CHECK_THROWS_WITH(v.encode("I work hard"), Contains("unknown word 'hard'"));
  CHECK_THROWS_WITH(v.encode("i work"), Contains("did you mean 'I'"));
  CHECK_THROWS_WITH(v.encode("I work."), Contains("'work.'") && Contains("separate"));
  CHECK_THROWS_WITH(v.encode(""), Contains("empty text"));
  CHECK_THROWS_WITH(v.encode("  \n"), Contains("empty text"));
  CHECK_THROWS_WITH(v.word(64), Contains("token id 64 is out of range"));
  CHECK_THROWS_WITH(v.word(-1), Contains("token id -1 is out of range"));
}

TEST_CASE("a malformed vocabulary file is refused with its line number", "[vocab]") {
  CHECK_THROWS_WITH(Vocabulary::parse("0\ta\tx\n2\tb\tx\n"), Contains("line 2") && Contains("should be 1"));
  CHECK_THROWS_WITH(Vocabulary::parse("0\ta\tx\n1\ta\tx\n"), Contains("repeated"));
  CHECK_THROWS_WITH(Vocabulary::parse("# comment\n0 a x\n"), Contains("line 2"));
}
