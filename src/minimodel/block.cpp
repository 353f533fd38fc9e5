#include "minimodel/block.hpp"

#include <fmt/format.h>

#include "minimodel/contract.hpp"
#include "minimodel/errors.hpp"

namespace minimodel {

TransformerBlock::TransformerBlock(ParameterRegistry& registry, std::size_t index,
                                   const MiniGPTConfig& config, const RotaryTable& rope)
    : name_(fmt::format("block_{}", index)),
      index_(index),
      d_model_(config.d_model()),
      context_len_(config.context_len()),
      ln1_(registry, name_ + ".ln1", config.d_model(), config.ln_eps(), config.norm()),
      attn_(registry, name_ + ".attn", config, rope),
      ln2_(registry, name_ + ".ln2", config.d_model(), config.ln_eps(), config.norm()),
      ffn_(registry, name_ + ".ffn", config) {}

namespace {

// y = a + b, elementwise over (T, d): a residual connection.
void add(const Matrix& a, const Matrix& b, Matrix& y) {
  MINIMODEL_EXPECT(a.shape() == b.shape(),
                   "residual add: a (T, d) = ({}, {}), b (T, d) = ({}, {})",
                   a.shape(0), a.shape(1), b.shape(0), b.shape(1));
  ensure_shape(y, a.shape(0), a.shape(1));
  const float* pa = a.data();
  const float* pb = b.data();
  float* py = y.data();
  for (std::size_t i = 0; i < a.size(); ++i) py[i] = pa[i] + pb[i];
}

}  // namespace

void TransformerBlock::forward(const Matrix& x, Matrix& y, const ForwardOptions& options) const {
  Buffers buffers;
  forward(x, y, buffers, options);
}

void TransformerBlock::forward(const Matrix& x, Matrix& y, Buffers& b, const ForwardOptions& options) const {
  const std::size_t T = x.shape(0), d = x.shape(1);
  if (d != d_model_ || T == 0 || options.position_offset + T > context_len_) {
    throw InputError(fmt::format(
        "{}: input of shape ({}, {}) at position offset {}; rule: x is (T, d_model = {}) with "
        "1 <= T and position_offset + T <= context_len = {}",
        name_, T, d, options.position_offset, d_model_, context_len_));
  }
  const TraceScope tracing(options.tracer);  // the modules report to it (trace.hpp)
  // The record of this block, when the forward keeps one: the attention and the FFN fill their
  // parts through their buffers, this function the rest (activations.hpp).
  BlockActivations* keep = options.activations != nullptr ? &options.activations->block(index_) : nullptr;
  b.attn.keep = keep != nullptr ? &keep->attn : nullptr;
  b.ffn.keep = keep != nullptr ? &keep->ffn : nullptr;
  // The FFN's hidden buffer (T, d_ff) is written only after the attention is done with its q, k
  // and v: sized here, it lends them its memory (attention.hpp), one (T, 3·d) buffer fewer.
  ensure_shape(b.ffn.hidden, T, ffn_.W_1().value.shape(1));
  b.attn.lent = b.ffn.hidden.data();
  b.attn.lent_floats = b.ffn.hidden.size();
  attention_sublayer(x, b.z, b, options);
  trace_op(name_, "resid1", {x, b.branch}, "+", b.z, "z = x + attn(ln1(x))");
  ffn_sublayer(b.z, y, b);
  trace_op(name_, "resid2", {b.z, b.branch}, "+", y, "y = z + ffn(ln2(z))");
  if (keep != nullptr) {
    keep->input = x;
    keep->ln1_stats = b.ln1_stats;
    keep->resid1 = b.z;
    keep->ln2_stats = b.ln2_stats;
    keep->resid2 = y;
  }
}

void TransformerBlock::attention_sublayer(const Matrix& x, Matrix& z, Buffers& b,
                                          const ForwardOptions& options) const {
  // STARTER-BEGIN 6 · Pre-LN block, attention sublayer | theory/01-transformer-block.md § Anatomy of a Pre-LN block
  // | computes: z = x + MHA(LN1(x)): normalise a copy, attend, add the result to the stream
  // | shapes:   x (T, d) -> z (T, d); b.normed and b.branch are (T, d) buffers to use for
  // |           LN1(x) and MHA(LN1(x)) (the trace reads the branch from b.branch), b.ln1_stats
  // |           for LN1's statistics
  // | NumPy:    z = x + attn(ln1(x))
  // | use:      ln1_.forward(in, out, stats); attn_.forward(in, out, b.attn, options); add(a, b, out)
  // | unlocks:  with piece 1, lab 00's steps 1 · LN1 to 9 · Residual 1
  ln1_.forward(x, b.normed, b.ln1_stats);              // LN1(x)           (T, d)
  attn_.forward(b.normed, b.branch, b.attn, options);  // MHA(LN1(x))      (T, d)
  add(x, b.branch, z);                                 // z = x + MHA(...) (T, d)
  // STARTER-END
}

void TransformerBlock::ffn_sublayer(const Matrix& z, Matrix& y, Buffers& b) const {
  // STARTER-BEGIN 7 · Pre-LN block, FFN sublayer | theory/01-transformer-block.md § Anatomy of a Pre-LN block
  // | computes: y = z + FFN(LN2(z))
  // | shapes:   z (T, d) -> y (T, d); b.normed for LN2(z), b.branch for FFN(LN2(z)),
  // |           b.ln2_stats for LN2's statistics
  // | NumPy:    y = z + ffn(ln2(z))
  // | use:      ln2_.forward(in, out, stats); ffn_.forward(in, out, b.ffn); add(a, b, out)
  // | unlocks:  with pieces 1 to 5, lab 00's steps 10 · LN2 to 14 · Residual 2 and its backward
  ln2_.forward(z, b.normed, b.ln2_stats);   // LN2(z)           (T, d)
  ffn_.forward(b.normed, b.branch, b.ffn);  // FFN(LN2(z))      (T, d)
  add(z, b.branch, y);                      // y = z + FFN(...) (T, d)
  // STARTER-END
}

}  // namespace minimodel
