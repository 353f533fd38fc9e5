#pragma once
// The 64-token verb-grammar vocabulary (CONVENTIONS.md §11) and a whitespace tokenizer.
//
// The word list lives in vocab.tsv next to this file; the build embeds it, so the binaries
// need no data path at run time.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace minimodel {

using TokenId = int;

class Vocabulary {
 public:
  // The workbook's vocabulary, parsed once from the embedded vocab.tsv.
  static const Vocabulary& builtin();

  // Parses the vocab.tsv format ("id<TAB>token<TAB>kind", '#' comments); ids must run 0, 1, ...
  // in order and tokens must be unique. Throws Error naming the line otherwise.
  static Vocabulary parse(std::string_view tsv_text);

  std::size_t size() const { return words_.size(); }
  const std::string& word(TokenId id) const;  // InputError when id is out of range
  const std::string& kind(TokenId id) const;  // "special", "pronoun", "verb.3sg", ...
  bool contains(std::string_view word) const;

  // The id of one word; an unknown word is an InputError that names it.
  TokenId id(std::string_view word) const;

  // Splits on whitespace and maps each word to its id. Empty text is an InputError.
  std::vector<TokenId> encode(std::string_view text) const;
  // Words joined by single spaces.
  std::string decode(std::span<const TokenId> ids) const;

 private:
  std::vector<std::string> words_;
  std::vector<std::string> kinds_;
  std::unordered_map<std::string, TokenId> ids_;
};

// The canonical sequences of CONVENTIONS.md §11.
inline constexpr std::string_view kCanonicalText = "<bos> I work , you work , he";
inline constexpr TokenId kCausalityTokens[] = {3, 1, 4, 1, 5, 9, 2, 6};

}  // namespace minimodel
