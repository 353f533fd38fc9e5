#include "minimodel/vocab.hpp"

#include <cctype>
#include <charconv>
#include <fmt/format.h>

#include "minimodel/errors.hpp"

namespace minimodel {

extern const char* const kVocabularyTsv;  // generated from vocab.tsv by the build

namespace {

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const Vocabulary& Vocabulary::builtin() {
  static const Vocabulary vocabulary = parse(kVocabularyTsv);
  return vocabulary;
}

Vocabulary Vocabulary::parse(std::string_view tsv_text) {
  Vocabulary v;
  std::size_t line_number = 0;
  while (!tsv_text.empty()) {
    const std::size_t end = tsv_text.find('\n');
    std::string_view line = tsv_text.substr(0, end);
    tsv_text = end == std::string_view::npos ? std::string_view{} : tsv_text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos) {
      throw Error(fmt::format("vocabulary line {}: expected 'id<TAB>token<TAB>kind', got '{}'",
                              line_number, line));
    }
    const std::string_view id_text = line.substr(0, tab1);
    const std::string word(line.substr(tab1 + 1, tab2 - tab1 - 1));
    const std::string kind(line.substr(tab2 + 1));
    TokenId id = -1;
    const auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc{} || ptr != id_text.data() + id_text.size() ||
        id != static_cast<TokenId>(v.words_.size())) {
      throw Error(fmt::format("vocabulary line {}: id '{}' should be {} (ids run 0, 1, 2, ... in order)",
                              line_number, id_text, v.words_.size()));
    }
    if (word.empty() || !v.ids_.emplace(word, id).second) {
      throw Error(fmt::format("vocabulary line {}: token '{}' is empty or repeated", line_number, word));
    }
    v.words_.push_back(word);
    v.kinds_.push_back(kind);
  }
  return v;
}

const std::string& Vocabulary::word(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= words_.size()) {
    throw InputError(fmt::format("token id {} is out of range: ids run from 0 to {}", id,
                                 words_.size() - 1));
  }
  return words_[static_cast<std::size_t>(id)];
}

const std::string& Vocabulary::kind(TokenId id) const {
  word(id);  // range check
  return kinds_[static_cast<std::size_t>(id)];
}

bool Vocabulary::contains(std::string_view w) const {
  return ids_.count(std::string(w)) != 0;
}

TokenId Vocabulary::id(std::string_view w) const {
  const auto it = ids_.find(std::string(w));
  if (it != ids_.end()) return it->second;
  // A hint for the commonest slip, a word in the wrong case ("i" for "I", "He" for "he").
  std::string hint;
  const std::string lower = lowercase(w);
  for (const std::string& candidate : words_) {
    if (lowercase(candidate) == lower) {
      hint = fmt::format(" (did you mean '{}'?)", candidate);
      break;
    }
  }
  throw InputError(fmt::format(
      "unknown word '{}'{}: the vocabulary has {} tokens; separate words and punctuation by "
      "spaces (\"I work , you work\") and see src/minimodel/vocab.tsv for the list",
      w, hint, words_.size()));
}

std::vector<TokenId> Vocabulary::encode(std::string_view text) const {
  const std::vector<std::string_view> words = split_whitespace(text);
  if (words.empty()) {
    throw InputError("empty text: give at least one word, e.g. \"<bos> I work\"");
  }
  std::vector<TokenId> ids;
  ids.reserve(words.size());
  for (const std::string_view w : words) ids.push_back(id(w));
  return ids;
}

std::string Vocabulary::decode(std::span<const TokenId> ids) const {
  std::string text;
  for (const TokenId id : ids) {
    if (!text.empty()) text += ' ';
    text += word(id);
  }
  return text;
}

}  // namespace minimodel
