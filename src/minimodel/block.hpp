#pragma once
// The Pre-LN transformer block:
//
//   z = x + MHA(LN1(x))      the attention sublayer reads a normalised copy of the stream
//   y = z + FFN(LN2(z))      and both sublayers ADD to the residual stream, never replace it
//
// Pre-LN: the norm sits inside each branch, so the identity path x -> y is untouched.
#include <cstddef>
#include <string>

#include "minimodel/attention.hpp"
#include "minimodel/ffn.hpp"
#include "minimodel/forward_options.hpp"
#include "minimodel/layer_norm.hpp"

namespace minimodel {

class TransformerBlock {
 public:
  // Registers block_<index>.ln1.*, .attn.*, .ln2.*, .ffn.* in that (data-flow) order.
  TransformerBlock(ParameterRegistry& registry, std::size_t index, const MiniGPTConfig& config,
                   const RotaryTable& rope);

  // The working memory of one block's forward; blocks run one after another, so one set of
  // buffers serves them all.
  struct Buffers {
    Matrix normed;  // LN1(x), then LN2(z)
    NormStatistics ln1_stats, ln2_stats;  // what LN1 and LN2 wrote on the way (the backward's)
    Matrix branch;  // MHA(LN1(x)), then FFN(LN2(z))
    Matrix z;       // x + MHA(LN1(x))
    CausalSelfAttention::Buffers attn;
    FeedForward::Buffers ffn;
  };

  // (T, d_model) -> (T, d_model). Resizes y when needed; y must not alias x.
  // Checks x's shape and length first (InputError). Runs the two sublayers below, and reports
  // their sums as `<name>.resid1` and `.resid2` to the tracer (options.tracer, or the active one).
  void forward(const Matrix& x, Matrix& y, Buffers& buffers, const ForwardOptions& options = {}) const;
  // The same, with buffers of its own (allocates; for labs and tests).
  void forward(const Matrix& x, Matrix& y, const ForwardOptions& options = {}) const;

  const std::string& name() const { return name_; }
  const LayerNorm& ln1() const { return ln1_; }
  const CausalSelfAttention& attn() const { return attn_; }
  const LayerNorm& ln2() const { return ln2_; }
  const FeedForward& ffn() const { return ffn_; }

  // The two equations of the block, one function each; x, z, y are (T, d_model).
  // z = x + MHA(LN1(x)), with buffers.normed and buffers.branch as scratch.
  void attention_sublayer(const Matrix& x, Matrix& z, Buffers& buffers, const ForwardOptions& options) const;
  // y = z + FFN(LN2(z)), with buffers.normed and buffers.branch as scratch.
  void ffn_sublayer(const Matrix& z, Matrix& y, Buffers& buffers) const;

 private:
  std::string name_;
  std::size_t index_, d_model_, context_len_;
  LayerNorm ln1_;
  CausalSelfAttention attn_;
  LayerNorm ln2_;
  FeedForward ffn_;
};

}  // namespace minimodel
