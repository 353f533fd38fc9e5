// Fuzz target: the whitespace tokenizer (Vocabulary::builtin().encode) on arbitrary text.
//
// The contract under test: any text either encodes to ids that are all in [0, 64), or is one
// minimodel::InputError (empty text, an unknown word). What encodes must decode to the same
// words, and encoding the decoded text must give the same ids back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "minimodel/errors.hpp"
#include "minimodel/vocab.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const minimodel::Vocabulary& vocab = minimodel::Vocabulary::builtin();
  std::vector<minimodel::TokenId> ids;
  try {
    ids = vocab.encode(text);
  } catch (const minimodel::InputError&) {
    return 0;
  }
  if (ids.empty()) std::abort();  // empty text must be an error, not an empty sequence
  for (const minimodel::TokenId id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab.size()) std::abort();
  }
  const std::string decoded = vocab.decode(ids);
  if (vocab.encode(decoded) != ids) std::abort();  // decode then encode is the identity on ids
  return 0;
}
