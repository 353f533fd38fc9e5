// The backward of ffn.cpp: W_2 (+ b_2), GELU, W_1 (+ b_1).
#include "minimodel/backward/backward.hpp"

#include "minimodel/backward/detail.hpp"
#include "minimodel/ffn.hpp"

namespace minimodel {

using namespace backward_detail;

Matrix ffn_backward(const FeedForward& ffn, const FfnActivations& kept, const Matrix& dout, Gradients& grads) {
  const Matrix& x = kept.input;  // LN2's output
  const std::size_t T = dout.shape(0), f = ffn.W_1().value.shape(1);
  const Matrix& pre = kept.pre;
  const Matrix& activated = kept.gelu;
  require_shape(x, T, ffn.W_1().value.shape(0), ffn.name() + " input (kept)");
  require_shape(pre, T, f, ffn.name() + ".pre (kept)");
  require_shape(activated, T, f, ffn.name() + ".gelu (kept)");

  // out = gelu·W_2 + b_2
  Matrix d_hidden;  // (T, d_ff): dL/d gelu, then dL/d pre in place
  linear_backward(activated, ffn.W_2(), dout, d_hidden, grads.at(ffn.W_2().name),
                  ffn.b_2() ? &grads.at(ffn.b_2()->name) : nullptr);
  // gelu = GELU(pre), elementwise
  for (std::size_t i = 0; i < d_hidden.size(); ++i) {
    d_hidden.data()[i] *= gelu_derivative(pre.data()[i], ffn.gelu_form());
  }
  // pre = x·W_1 + b_1
  Matrix dx;
  linear_backward(x, ffn.W_1(), d_hidden, dx, grads.at(ffn.W_1().name),
                  ffn.b_1() ? &grads.at(ffn.b_1()->name) : nullptr);
  return dx;
}

}  // namespace minimodel
