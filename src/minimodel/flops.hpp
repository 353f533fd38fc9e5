#pragma once
// How much arithmetic a forward does: the FLOPs of every matrix product (a multiply-add
// counts 2), attention included. Elementwise work (LayerNorm, softmax, GELU, RoPE, the
// residual additions) is O(T·d) and left out, as FLOP counts of transformers usually do.
#include <cstddef>

#include "minimodel/config.hpp"

namespace minimodel {

struct ForwardFlops {
  double projections;  // q, k, v and the output projection: 4 · 2·T·d²  per layer
  double attention;    // q·kᵀ and weights·v over the (i, j <= i) pairs: 2 · 2·d_head·pairs·H per layer
  double ffn;          // W_1 and W_2: 2 · 2·T·d·d_ff per layer
  double lm_head;      // h·Eᵀ: 2·T·d·V
  double total() const { return projections + attention + ffn + lm_head; }
};

// With the causal mask a query at position i meets i + 1 keys, so attention counts
// T(T+1)/2 pairs per head, not T²: the work the model actually needs.
ForwardFlops forward_flops(const MiniGPTConfig& config, std::size_t T);

}  // namespace minimodel
