#pragma once
// The hand-made reference backward: the gradients of backward.hpp written again in plain loops
// and double precision, on top of the double reference forward (reference.hpp), whose recorded
// steps supply every activation. It shares nothing with the fp32 backward: no BLAS, no
// xtensor, no helper of the fast path. The finite-difference checks hold it against
// differences of the reference forward; the fp32 backward is then held against it.
#include <cstddef>
#include <span>

#include "minimodel/config.hpp"
#include "minimodel/reference.hpp"
#include "minimodel/vocab.hpp"

namespace minimodel::reference {

struct Gradients {
  Weights parameters;  // one per weight, same name and shape
  Tensor d_embeddings; // (T, d_model): dL/dh0 for backward(); dL/dx for block_backward()
};

// Runs the reference forward on `weights` and differentiates the scalar whose gradient with
// respect to the logits (T, vocab_size) is `dlogits`. options.keep_steps is ignored (the steps
// are always kept: the backward reads them).
Gradients backward(const MiniGPTConfig& config, const Weights& weights, std::span<const TokenId> tokens,
                   const Tensor& dlogits, const Options& options = {});

// One block, block_<index>, on input x (T, d_model) with output gradient dy (T, d_model).
// `parameters` holds that block's gradients only; `d_embeddings` is dL/dx.
Gradients block_backward(const MiniGPTConfig& config, const Weights& weights, std::size_t index,
                         const Tensor& x, const Tensor& dy, const Options& options = {});

// GELU'(x) in double, exact or tanh form.
double gelu_derivative(double x, GeluForm form);

}  // namespace minimodel::reference
