#include "minimodel/block.hpp"

#include <fmt/format.h>

#include "minimodel/errors.hpp"

namespace minimodel {

TransformerBlock::TransformerBlock(ParameterRegistry& registry, std::size_t index,
                                   const MiniGPTConfig& config, const RotaryTable& rope)
    : name_(fmt::format("block_{}", index)),
      d_model_(config.d_model()),
      context_len_(config.context_len()),
      ln1_(registry, name_ + ".ln1", config.d_model(), config.ln_eps(), config.norm()),
      attn_(registry, name_ + ".attn", config, rope),
      ln2_(registry, name_ + ".ln2", config.d_model(), config.ln_eps(), config.norm()),
      ffn_(registry, name_ + ".ffn", config) {}

namespace {

// y = a + b, elementwise over (T, d): a residual connection.
void add(const Matrix& a, const Matrix& b, Matrix& y) {
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
  Tracer* tracer = options.tracer;
  const std::size_t T = x.shape(0), d = x.shape(1);
  if (d != d_model_ || T == 0 || options.position_offset + T > context_len_) {
    throw InputError(fmt::format(
        "{}: input of shape ({}, {}) at position offset {}; rule: x is (T, d_model = {}) with "
        "1 <= T and position_offset + T <= context_len = {}",
        name_, T, d, options.position_offset, d_model_, context_len_));
  }
  // STARTER-BEGIN Pre-LN block forward | theory/01-transformer-block.md § Anatomy of a Pre-LN block
  Matrix& normed = b.normed;
  Matrix& branch = b.branch;
  Matrix& z = b.z;

  // z = x + MHA(LN1(x))
  ln1_.forward(x, normed, tracer);
  attn_.forward(normed, branch, b.attn, options);
  add(x, branch, z);
  report(tracer, [&] {
    return TraceEvent{name_ + ".resid1", {{T, d}, {T, d}}, "+", {T, d}, "z = x + attn(ln1(x))",
                      values_for(tracer, z.data(), z.size())};
  });

  // y = z + FFN(LN2(z))
  ln2_.forward(z, normed, tracer);
  ffn_.forward(normed, branch, b.ffn, tracer);
  add(z, branch, y);
  report(tracer, [&] {
    return TraceEvent{name_ + ".resid2", {{T, d}, {T, d}}, "+", {T, d}, "y = z + ffn(ln2(z))",
                      values_for(tracer, y.data(), y.size())};
  });
  // STARTER-END
}

}  // namespace minimodel
