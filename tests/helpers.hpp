#pragma once
// Helpers more than one test file uses, written once.
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "minimodel_labs.hpp"
#include "minimodel/model.hpp"
#include "minimodel/random.hpp"
#include "minimodel/vocab.hpp"

namespace test_support {

// The lab binaries, in the order students run them (generated from labs/labs.txt).
inline constexpr auto kLabs = minimodel_labs::kBinaries;

// The canonical sequence (CONVENTIONS.md §11) as token ids.
inline std::vector<minimodel::TokenId> canonical() {
  return minimodel::Vocabulary::builtin().encode(minimodel::kCanonicalText);
}

// T token ids drawn uniformly from [0, vocab_size), reproducibly from `seed`.
inline std::vector<minimodel::TokenId> random_tokens(std::uint64_t seed, std::size_t T, std::size_t vocab_size) {
  minimodel::SplitMix64 rng(seed);
  std::vector<minimodel::TokenId> ids(T);
  for (minimodel::TokenId& id : ids) id = static_cast<minimodel::TokenId>(rng.next() % vocab_size);
  return ids;
}

// Same shape and the same bits in every entry (so -0 differs from +0, and NaN equals itself).
inline bool same_bits(const minimodel::Matrix& a, const minimodel::Matrix& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace test_support
