#pragma once
// The backward pass: given the gradient of some scalar with respect to the logits, the gradient
// with respect to every parameter (by its registry name) and to the input embeddings.
//
// Read it bottom to top, the reverse of the forward, one function per operation:
//
//   dlogits (T, V) -> lm_head_backward -> norm_backward (ln_final)
//     -> block_backward × L, last block first:
//          dy -> ffn_backward -> norm_backward (ln2) -> + dy        = dz   (the identity path)
//          dz -> attention_backward -> norm_backward (ln1) -> + dz  = dx
//     -> embedding_backward (scatter-add into the rows of E that were looked up)
//
// The activations come from an ActivationRecord (activations.hpp) that the forward filled when
// asked (ForwardOptions::activations); each function reads the typed fields of its own part.
//
// Where things are: this folder mirrors the forward file by file. The backward of
// src/minimodel/<op>.cpp is src/minimodel/backward/<op>.cpp (layer_norm.cpp, attention.cpp,
// ffn.cpp, block.cpp, embedding.cpp, model.cpp, matmul.cpp, rope.cpp, gelu.cpp). Not beside
// the forward in the same file, because the forward files hold the student's pieces: a
// starter or a handout replaces those files, and the backward (the next chapter's code, which
// the student does not write) must stay out of them; and because reading the forward alone,
// without the gradient code, is the first chapter's job. Parameter gradients ACCUMULATE (+=) into a Gradients that
// starts at zero: that is how the tied E receives both its head and its lookup gradient, and
// how a later training chapter can sum over a batch.
//
// fp32 throughout, products on OpenBLAS, like the forward. The plain-loop double version is
// reference_backward.hpp; the two share nothing.
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include <xtensor/xarray.hpp>

#include "minimodel/activations.hpp"
#include "minimodel/config.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/tensor.hpp"
#include "minimodel/vocab.hpp"

namespace minimodel {

class MiniGPT;
class TransformerBlock;
class CausalSelfAttention;
class FeedForward;
class LayerNorm;
class RotaryTable;

// What the backward must know about the forward it reverses; the same values as that
// forward's ForwardOptions.
struct BackwardOptions {
  std::size_t position_offset = 0;  // RoPE position of row 0
  bool causal_mask = true;
};

struct Gradients {
  // One entry per registered parameter, same name and shape as the parameter.
  std::map<std::string, xt::xarray<float>, std::less<>> parameters;
  // dL/dh0, (T, d_model): the gradient of the input embeddings E[tokens] (before the scatter
  // into E). Filled by backward(); empty after block_backward().
  Matrix d_embeddings;

  // The gradient of parameter `name`; Error when there is none.
  xt::xarray<float>& at(std::string_view name);
  const xt::xarray<float>& at(std::string_view name) const;
};

// Zero gradients for every parameter of the registry.
Gradients zero_gradients(const ParameterRegistry& registry);

// The whole model. dlogits is (T, vocab_size), any values: the gradient of the scalar being
// differentiated with respect to the logits. The record must hold the forward of `tokens`
// with the same options (checked: shapes, and block 0's input == E[tokens]).
Gradients backward(const MiniGPT& model, const ActivationRecord& record, std::span<const TokenId> tokens,
                   const Matrix& dlogits, const BackwardOptions& options = {});

// One Pre-LN block on its own: `kept` is what its forward kept, dy (T, d) the gradient of its
// output. Adds the block's parameter gradients into `grads` and returns dx (T, d).
Matrix block_backward(const TransformerBlock& block, const BlockActivations& kept, const Matrix& dy,
                      Gradients& grads, const BackwardOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Per operation. Shapes are checked (Error). Gradients of parameters are added into dW, db, ...

// y = x·W (+ b):  dx = dy·Wᵀ,  dW += xᵀ·dy,  db += Σ_t dy[t].
// x (T, d_in), W (d_in, d_out), dy (T, d_out) -> dx (T, d_in); db may be null (no bias).
void linear_backward(const Matrix& x, const Parameter& W, const Matrix& dy, Matrix& dx,
                     xt::xarray<float>& dW, xt::xarray<float>* db);

// LayerNorm or RMSNorm, whichever `norm` is. x (T, d) is the norm's INPUT and `stats` its
// per-row mean μ and r = 1/√(σ² + eps) as the forward kept them (RMSNorm: μ = 0 and
// σ² = mean(x²)); dy (T, d). With x̂ = (x − μ)·r and g = dy ⊙ γ:
//   dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂))     (RMSNorm: without the mean(g) term)
//   dγ += Σ_t dy ⊙ x̂,  dβ += Σ_t dy          (dbeta null for RMSNorm)
void norm_backward(const LayerNorm& norm, const Matrix& x, const NormStatistics& stats, const Matrix& dy, Matrix& dx,
                   xt::xarray<float>& dgamma, xt::xarray<float>* dbeta);

// GELU'(x): exact Φ(x) + x·φ(x); tanh form 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·u'(x),
// u = √(2/π)(x + 0.044715x³).
float gelu_derivative(float x, GeluForm form);

// RoPE is a rotation of each pair (2i, 2i+1) by angle a; its transpose is the rotation by −a.
// In place on dx (T, n_heads·d_head): dy of the rotated values -> dx of the unrotated ones.
void rope_backward(Matrix& d, std::size_t n_heads, const RotaryTable& table, std::size_t position_offset);

// Causal self-attention of a block: `kept` is what its forward kept (its input, LN1's output;
// q_rope, k_rope, v, weights, heads), dout (T, d) the gradient of its output. Adds into the
// W_q, W_k, W_v, W_o gradients; returns dx (T, d), the gradient of its input.
Matrix attention_backward(const CausalSelfAttention& attn, const AttentionActivations& kept, const Matrix& dout,
                          Gradients& grads, const BackwardOptions& options);

// FFN of a block: `kept` is what its forward kept (its input, LN2's output; pre, gelu), dout
// (T, d). Adds into W_1, b_1, W_2, b_2 (those that exist); returns dx (T, d).
Matrix ffn_backward(const FeedForward& ffn, const FfnActivations& kept, const Matrix& dout, Gradients& grads);

// Tied head, logits = h·Eᵀ: dh = dlogits·E (T, d), dE += dlogitsᵀ·h (V, d).
void lm_head_backward(const Matrix& h, const Parameter& E, const Matrix& dlogits, Matrix& dh,
                      xt::xarray<float>& dE);

// Lookup h0 = E[tokens]: dE[tokens[t]] += dh0[t], a scatter-add (a token seen twice adds twice).
void embedding_backward(std::span<const TokenId> tokens, const Matrix& dh0, xt::xarray<float>& dE);

}  // namespace minimodel
