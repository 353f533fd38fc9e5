#include "minimodel/activation_store.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "minimodel/errors.hpp"

namespace minimodel {

namespace {

// What the backward reads of each block. The scores and the masked scores are not kept: the
// softmax backward needs only the weights. Nor the projections q and k before RoPE: their
// gradient is found by rotating back, which needs no values at all. Nor any output that only
// feeds a linear map.
constexpr std::array<std::string_view, 11> kBlockSuffixes = {
    ".ln1",    ".attn.v", ".attn.q_rope", ".attn.k_rope", ".attn.weights", ".attn.heads",
    ".resid1", ".ln2",    ".ffn.pre",     ".ffn.gelu",    ".resid2"};

}  // namespace

bool ActivationStore::needed_by_backward(std::string_view name) {
  if (name == "embed" || name == "ln_final") return true;
  return std::any_of(kBlockSuffixes.begin(), kBlockSuffixes.end(),
                     [&](std::string_view suffix) { return name.ends_with(suffix); });
}

std::string ActivationStore::first_missing(std::string_view block) const {
  for (const std::string_view suffix : kBlockSuffixes) {
    std::string name = fmt::format("{}{}", block, suffix);
    if (!contains(name)) return name;
  }
  return "";
}

void ActivationStore::record(const TraceEvent& event) {
  if (!needed_by_backward(event.name)) return;
  if (kept_.contains(event.name)) {
    throw Error(fmt::format("ActivationStore: '{}' recorded twice; a store holds one forward "
                            "(clear() it before the next)",
                            event.name));
  }
  if (event.output.empty() || event.values.size() == 0) {
    throw Error(fmt::format("ActivationStore: event '{}' came without values", event.name));
  }
  // Every axis but the last becomes a row: (T, d) stays, (H, T, T) becomes (H·T, T).
  const std::size_t cols = event.output.back();
  const std::size_t rows = event.values.size() / cols;
  Matrix values({rows, cols});
  std::copy(event.values.begin(), event.values.end(), values.data());
  kept_.emplace(event.name, std::move(values));
}

bool ActivationStore::contains(std::string_view name) const { return kept_.find(name) != kept_.end(); }

const Matrix& ActivationStore::at(std::string_view name, std::size_t rows, std::size_t cols) const {
  const auto it = kept_.find(name);
  if (it == kept_.end()) {
    throw Error(fmt::format("ActivationStore: no activation '{}' (was the forward run with this "
                            "store as its tracer?)",
                            name));
  }
  const Matrix& m = it->second;
  if (m.shape(0) != rows || m.shape(1) != cols) {
    throw Error(fmt::format("ActivationStore: '{}' is ({}, {}), the backward expects ({}, {}); "
                            "was it recorded by a forward of another length?",
                            name, m.shape(0), m.shape(1), rows, cols));
  }
  return m;
}

std::size_t ActivationStore::float_count() const {
  std::size_t n = 0;
  for (const auto& [name, m] : kept_) n += m.size();
  return n;
}

}  // namespace minimodel
