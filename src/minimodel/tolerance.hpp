#pragma once
// How far the fp32 model may be from the double-precision reference: the tolerance
// L·K·u, derived once here for any configuration (CONVENTIONS.md §13). Lab 01, the tests of
// the forward and the gradient check all read it from here.
//
// The model rounds every operation to fp32, unit roundoff u = 2^-24; the reference reads the
// same fp32 weights and computes in double, so their difference is the model's rounding
// alone. The longest accumulation of a forward is a dot product of K terms, and the classic
// bound on its error is K·u relative to the sum of |terms| (typically far less, √K·u). The
// dot products of a forward sum d_model terms (the projections, ffn.pre, the logits), d_head
// (the scores), T <= context_len (weights·v) or d_ff (ffn.out) terms, so K is the largest of
// those. Each of the L = n_layers blocks adds its own rounding to the residual stream, which
// LayerNorm passes on at O(1) scale, so the bound is
//
//   rtol = L·K·u        (the locked model: 2·256·2^-24 = 3.05e-5),
//
// and the same number serves as atol for entries near 0, whose error comes from the O(1)
// activations that cancelled to produce them. A single block is a forward with L = 1.
//
// A backward starts from activations that carry the forward's error and adds a pass of the
// same depth and the same longest sums (dx = dy·W_2ᵀ sums d_ff terms, dW = xᵀ·dy sums
// T <= context_len), so its bound is twice the forward's: 2·L·K·u.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "minimodel/config.hpp"

namespace minimodel {

struct ReferenceTolerance {
  static constexpr double kUnitRoundoff = 0x1p-24;  // u of fp32
  std::size_t layers = 0;                           // L
  std::size_t longest_sum = 0;                      // K
  double rtol = 0.0;
  double atol = 0.0;
  // The entrywise bound for one reference value: atol + rtol·|reference|.
  double at(double reference_value) const { return atol + rtol * std::abs(reference_value); }
};

// L·K·u for L layers and a longest sum of K terms.
constexpr double lku(std::size_t layers, std::size_t longest_sum) {
  return static_cast<double>(layers) * static_cast<double>(longest_sum) * ReferenceTolerance::kUnitRoundoff;
}

// K: the longest dot product a forward of this configuration computes.
inline std::size_t longest_sum(const MiniGPTConfig& config) {
  return std::max({config.d_model(), config.d_head(), config.d_ff(), config.context_len()});
}

// The tolerance of a forward of `layers` blocks of this configuration (all of them unless
// given: a test of one block passes 1).
inline ReferenceTolerance forward_tolerance(const MiniGPTConfig& config, std::size_t layers) {
  ReferenceTolerance t;
  t.layers = layers;
  t.longest_sum = longest_sum(config);
  t.rtol = lku(t.layers, t.longest_sum);
  t.atol = t.rtol;
  return t;
}

inline ReferenceTolerance forward_tolerance(const MiniGPTConfig& config) {
  return forward_tolerance(config, config.n_layers());
}

// The bound of fp32 gradients against double ones: twice the forward's, 2·L·K·u.
inline double backward_tolerance(const MiniGPTConfig& config) { return 2.0 * forward_tolerance(config).rtol; }

}  // namespace minimodel
