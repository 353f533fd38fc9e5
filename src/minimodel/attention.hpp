#pragma once
// Multi-head causal self-attention with RoPE.
//
//   q, k, v = x·W_q, x·W_k, x·W_v            (T, d) · (d, d) -> (T, d), no biases
//   head h  = columns [h·d_head, (h+1)·d_head) of q, k and v (contiguous column blocks)
//   q, k   <- RoPE(q), RoPE(k) per head       v is not rotated
//   scores  = q_h·k_hᵀ / √d_head              (T, T) per head
//   masked  = scores with j > i set to -inf   (the future; the diagonal is never masked)
//   weights = softmax over j, max subtracted  rows sum to 1, masked entries are exactly 0
//   heads   = concat_h(weights_h · v_h)       (T, d)
//   out     = heads·W_o                       (T, d) · (d, d) -> (T, d)
#include <string>

#include "minimodel/config.hpp"
#include "minimodel/forward_options.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/rope.hpp"
#include "minimodel/trace.hpp"

namespace minimodel {

class CausalSelfAttention {
 public:
  // Registers `<name>.W_q`, `.W_k`, `.W_v`, `.W_o`, each (d_model, d_model) ~ N(0, 1/d_model).
  CausalSelfAttention(ParameterRegistry& registry, std::string name, const MiniGPTConfig& config,
                      const RotaryTable& rope);

  // (T, d_model) -> (T, d_model). Resizes out when needed.
  void forward(const Matrix& x, Matrix& out, const ForwardOptions& options) const;

  const std::string& name() const { return name_; }
  const Parameter& W_q() const { return W_q_; }
  const Parameter& W_k() const { return W_k_; }
  const Parameter& W_v() const { return W_v_; }
  const Parameter& W_o() const { return W_o_; }

 private:
  std::string name_;
  std::size_t n_heads_, d_head_;
  const RotaryTable* rope_;
  Parameter& W_q_;
  Parameter& W_k_;
  Parameter& W_v_;
  Parameter& W_o_;
};

// Softmax over each row of n values, in place, subtracting the row maximum first so exp()
// never overflows. A -inf entry becomes exactly 0. Rows must hold at least one finite value.
void softmax_rows(float* values, std::size_t rows, std::size_t n);

}  // namespace minimodel
