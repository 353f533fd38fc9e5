#include "minimodel/ffn.hpp"

#include <cmath>
#include <fmt/format.h>

#include "minimodel/contract.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/gelu.hpp"
#include "minimodel/matmul.hpp"

namespace minimodel {

FeedForward::FeedForward(ParameterRegistry& registry, std::string name, const MiniGPTConfig& config)
    : name_(std::move(name)),
      gelu_(config.gelu()),
      W_1_(registry.add(name_ + ".W_1", {config.d_model(), config.d_ff()},
                        InitRule::normal(1.0 / std::sqrt(static_cast<double>(config.d_model()))))),
      b_1_(config.ffn_biases() ? &registry.add(name_ + ".b_1", {config.d_ff()}, InitRule::zeros()) : nullptr),
      W_2_(registry.add(name_ + ".W_2", {config.d_ff(), config.d_model()},
                        InitRule::normal(1.0 / std::sqrt(static_cast<double>(config.d_ff()))))),
      b_2_(config.ffn_biases() ? &registry.add(name_ + ".b_2", {config.d_model()}, InitRule::zeros()) : nullptr) {}

void FeedForward::forward(const Matrix& x, Matrix& out) const {
  Buffers buffers;
  forward(x, out, buffers);
}

void FeedForward::forward(const Matrix& x, Matrix& out, Buffers& buffers) const {
  MINIMODEL_EXPECT(x.shape(1) == W_1_.value.shape(0),
                   "{}: x (T, d_model) = ({}, {}), W_1 (d_model, d_ff) = ({}, {})",
                   name_, x.shape(0), x.shape(1), W_1_.value.shape(0), W_1_.value.shape(1));
  Matrix& hidden = buffers.hidden;  // (T, d_ff)
  // STARTER-BEGIN 4 · FFN forward, x·W_1 + b_1 | theory/02-ffn-and-activations.md § Attention mixes positions; the FFN works inside one
  // | computes: hidden = x·W_1 + b_1, b_1 added to every row (no b_1 when b_1_ is nullptr)
  // | shapes:   x (T, d_model) · W_1_ (d_model, d_ff) + b_1_ (d_ff,) -> hidden (T, d_ff)
  // | NumPy:    hidden = x @ W_1 + b_1
  // | use:      linear(x, W, b, y) or linear(x, W, y) from matmul.hpp (they size y)
  // | unlocks:  with pieces 2, 6 and 7, lab 00's step 11 · FFN pre-activation
  if (b_1_ != nullptr) {
    linear(x, W_1_, *b_1_, hidden);
  } else {
    linear(x, W_1_, hidden);
  }
  // STARTER-END
  trace_op(name_, "pre", {x, W_1_}, "·", hidden, b_1_ ? "x·W_1 + b_1" : "x·W_1");
  if (buffers.keep != nullptr) {  // before GELU overwrites it in place
    buffers.keep->input = x;
    buffers.keep->pre = hidden;
  }

  gelu_inplace(hidden.data(), hidden.size(), gelu_);
  trace_op(name_, "gelu", {hidden}, "", hidden,
           gelu_ == GeluForm::exact ? "GELU exact: 0.5·x·(1+erf(x/√2))"
                                    : "GELU tanh: 0.5·x·(1+tanh(√(2/π)·(x+0.044715x³)))");
  if (buffers.keep != nullptr) buffers.keep->gelu = hidden;

  // STARTER-BEGIN 5 · FFN forward, gelu·W_2 + b_2 | theory/02-ffn-and-activations.md § Attention mixes positions; the FFN works inside one
  // | computes: out = GELU(hidden)·W_2 + b_2 (hidden holds the GELU already, in place)
  // | shapes:   hidden (T, d_ff) · W_2_ (d_ff, d_model) + b_2_ (d_model,) -> out (T, d_model)
  // | NumPy:    out = gelu(hidden) @ W_2 + b_2
  // | unlocks:  with pieces 2, 4, 6 and 7, lab 00's step 13 · FFN output
  if (b_2_ != nullptr) {
    linear(hidden, W_2_, *b_2_, out);
  } else {
    linear(hidden, W_2_, out);
  }
  // STARTER-END
  trace_op(name_, "out", {hidden, W_2_}, "·", out, b_2_ ? "gelu·W_2 + b_2" : "gelu·W_2");
}

}  // namespace minimodel
