#pragma once
// Multi-head causal self-attention with RoPE.
//
//   q, k, v = x·W_q, x·W_k, x·W_v            (T, d) · (d, d) -> (T, d), no biases
//   head h  = columns [h·d_head, (h+1)·d_head) of q, k and v (contiguous column blocks)
//   q, k   <- RoPE(q), RoPE(k) per head       v is not rotated
//   scores  = q_h·k_hᵀ / √d_head              (T, T) per head
//   masked  = scores with j > i set to -inf   (the future; the diagonal is never masked)
//   weights = softmax over j, max subtracted  rows sum to 1; exp(−∞) = 0, so masked entries
//             are exactly 0 (computed in blocks of query rows: a block meets only the keys at
//             or before its last row; the keys after it would all be −∞, weight 0, so they
//             are skipped; inside the block the mask writes −∞ as above)
//   heads   = concat_h(weights_h · v_h)       (T, d)
//   out     = heads·W_o                       (T, d) · (d, d) -> (T, d)
#include <span>
#include <string>
#include <vector>

#include "minimodel/activations.hpp"
#include "minimodel/config.hpp"
#include "minimodel/forward_options.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/rope.hpp"
#include "minimodel/trace.hpp"

namespace minimodel {

class CausalSelfAttention {
 public:
  // Per-head products of a block of at least this many multiply-adds run on OpenBLAS, smaller
  // ones on libxsmm (attention.cpp says why, with the measurements).
  static constexpr std::size_t kBlasWork = 64 * 64 * 64;

  // Registers `<name>.W_q`, `.W_k`, `.W_v`, `.W_o`, each (d_model, d_model) ~ N(0, 1/d_model).
  CausalSelfAttention(ParameterRegistry& registry, std::string name, const MiniGPTConfig& config,
                      const RotaryTable& rope);

  // The working memory of one forward, owned by the caller so that repeated forwards of the
  // same length allocate nothing.
  struct Buffers {
    Matrix q, k, v;              // (T, d_model); q and k rotated in place
    Matrix heads;                // (T, d_model): head h writes columns [h·d_head, (h+1)·d_head)
    std::vector<float> weights;  // per worker thread: one block of rows of a head's scores, then its weights
    std::vector<float> k_transposed;  // per worker thread: k_hᵀ (d_head, T), for the score products
    // (H, T, T) copies of the blocks above at each stage, only when a tracer asks for values.
    std::vector<float> traced_scores, traced_masked, traced_weights;
    // When not null, the forward also keeps there what the backward reads (set by the block
    // from ForwardOptions::activations; null keeps nothing).
    AttentionActivations* keep = nullptr;
    // When not null: lent_floats floats that the caller does not need during this forward (the
    // block lends its FFN's hidden buffer, which the FFN fills only after the attention). With at
    // least 3·T·d_model of them, q, k and v are computed there instead of in the Matrices above:
    // 9 MiB less at the GPT-2 shape and T = 1024. Not used while a tracer listens or a record
    // keeps q, k and v (they read the Matrices).
    float* lent = nullptr;
    std::size_t lent_floats = 0;
  };

  // (T, d_model) -> (T, d_model). Resizes out when needed. Reports q, k, v, q_rope, k_rope,
  // scores, masked, weights, heads and out (each `<name>.<op>`) to the tracer.
  void forward(const Matrix& x, Matrix& out, Buffers& buffers, const ForwardOptions& options) const;
  // The same, with buffers of its own (allocates; for labs and tests).
  void forward(const Matrix& x, Matrix& out, const ForwardOptions& options) const;

  const std::string& name() const { return name_; }
  const Parameter& W_q() const { return W_q_; }
  const Parameter& W_k() const { return W_k_; }
  const Parameter& W_v() const { return W_v_; }
  const Parameter& W_o() const { return W_o_; }
  const RotaryTable& rope() const { return *rope_; }  // the backward rotates back by −angle

 private:
  std::string name_;
  std::size_t n_heads_, d_head_;
  const RotaryTable* rope_;
  Parameter& W_q_;
  Parameter& W_k_;
  Parameter& W_v_;
  Parameter& W_o_;
  std::string scores_formula_;  // for the trace, written once
};

// Softmax over each row of n values, in place, subtracting the row maximum first so exp()
// never overflows. A -inf entry becomes exactly 0. Rows must hold at least one finite value;
// values holds exactly rows·n floats (checked in Debug and sanitizer builds).
void softmax_rows(std::span<float> values, std::size_t rows, std::size_t n);

}  // namespace minimodel
