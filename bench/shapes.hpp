#pragma once
// The two configurations the benchmarks measure.
#include "minimodel/config.hpp"

namespace bench {

inline minimodel::MiniGPTConfig locked() { return minimodel::MiniGPTConfig(); }

// GPT-2 small's shape (not its weights): d_model 768, 12 heads, 12 layers, d_ff 3072,
// vocabulary 50257, context 1024.
inline minimodel::MiniGPTConfig gpt2_small() {
  return minimodel::MiniGPTConfig({.d_model = 768, .n_heads = 12, .n_layers = 12, .d_ff = 3072,
                                   .vocab_size = 50257, .context_len = 1024});
}

}  // namespace bench
