// The backward of block.cpp: the Pre-LN block, its two residual paths.
#include "minimodel/backward/backward.hpp"

#include "minimodel/backward/detail.hpp"
#include "minimodel/block.hpp"

#include <fmt/format.h>
#include <string>

namespace minimodel {

using namespace backward_detail;

Matrix block_backward(const TransformerBlock& block, const BlockActivations& kept, const Matrix& dy,
                      Gradients& grads, const BackwardOptions& options) {
  const Matrix& x = kept.input;
  const Matrix& z = kept.resid1;
  if (const std::string missing = first_missing(kept, block.name()); !missing.empty()) {
    throw Error(fmt::format("backward: the activation record lacks {} (was the forward run with "
                            "ForwardOptions::activations?)",
                            missing));
  }
  require_shape(dy, x.shape(0), x.shape(1), "block output gradient dy");
  require_shape(z, x.shape(0), x.shape(1), block.name() + ".resid1 (kept)");
  auto beta_grad = [&](const LayerNorm& n) { return n.beta() ? &grads.at(n.beta()->name) : nullptr; };

  // y = z + FFN(LN2(z)): the gradient reaches z twice, straight down the identity path and
  // back through the branch.
  const Matrix d_ln2 = ffn_backward(block.ffn(), kept.ffn, dy, grads);
  Matrix dz;
  norm_backward(block.ln2(), z, kept.ln2_stats, d_ln2, dz, grads.at(block.ln2().gamma().name), beta_grad(block.ln2()));
  add_into(dz, dy);

  // z = x + MHA(LN1(x)): the same again.
  const Matrix d_ln1 = attention_backward(block.attn(), kept.attn, dz, grads, options);
  Matrix dx;
  norm_backward(block.ln1(), x, kept.ln1_stats, d_ln1, dx, grads.at(block.ln1().gamma().name), beta_grad(block.ln1()));
  add_into(dx, dz);
  return dx;
}

}  // namespace minimodel
