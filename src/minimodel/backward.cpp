#include "minimodel/backward.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <vector>

#include "minimodel/attention.hpp"
#include "minimodel/block.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/ffn.hpp"
#include "minimodel/layer_norm.hpp"
#include "minimodel/matmul.hpp"
#include "minimodel/model.hpp"
#include "minimodel/rope.hpp"

namespace minimodel {

namespace {

MutableMatrixView view_of(xt::xarray<float>& g) {
  return {g.data(), g.shape(0), g.shape(1), g.shape(1)};
}

void require_shape(const Matrix& m, std::size_t rows, std::size_t cols, std::string_view what) {
  if (m.shape(0) != rows || m.shape(1) != cols) {
    throw Error(fmt::format("backward: {} is ({}, {}), expected ({}, {})", what, m.shape(0),
                            m.shape(1), rows, cols));
  }
}

void require_size(const xt::xarray<float>& g, std::size_t n, std::string_view what) {
  if (g.size() != n) {
    throw Error(fmt::format("backward: gradient of {} holds {} values, expected {}", what, g.size(), n));
  }
}

// db += Σ_t dy[t]: a bias is added to every row, so its gradient sums the rows.
void add_column_sums(const Matrix& dy, xt::xarray<float>& db) {
  const std::size_t T = dy.shape(0), n = dy.shape(1);
  require_size(db, n, "a bias");
  float* out = db.data();
  for (std::size_t t = 0; t < T; ++t) {
    const float* dy_t = dy.data() + t * n;
    for (std::size_t j = 0; j < n; ++j) out[j] += dy_t[j];
  }
}

// a += b, elementwise: where a residual connection's two paths meet again going backward.
void add_into(Matrix& a, const Matrix& b) {
  float* pa = a.data();
  const float* pb = b.data();
  for (std::size_t i = 0; i < a.size(); ++i) pa[i] += pb[i];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Gradients

Gradients zero_gradients(const ParameterRegistry& registry) {
  Gradients g;
  for (const Parameter& p : registry) g.parameters.emplace(p.name, xt::zeros<float>(p.value.shape()));
  return g;
}

const xt::xarray<float>& Gradients::at(std::string_view name) const {
  const auto it = parameters.find(name);
  if (it == parameters.end()) throw Error(fmt::format("no gradient for a parameter named '{}'", name));
  return it->second;
}

xt::xarray<float>& Gradients::at(std::string_view name) {
  return const_cast<xt::xarray<float>&>(std::as_const(*this).at(name));
}

// ---------------------------------------------------------------------------------------------
// Per operation

void linear_backward(const Matrix& x, const Parameter& W, const Matrix& dy, Matrix& dx,
                     xt::xarray<float>& dW, xt::xarray<float>* db) {
  const std::size_t T = x.shape(0), d_in = W.value.shape(0), d_out = W.value.shape(1);
  require_shape(x, T, d_in, "linear input x");
  require_shape(dy, T, d_out, "linear output gradient dy");
  require_size(dW, d_in * d_out, W.name);
  // dW (d_in, d_out) += xᵀ (d_in, T) · dy (T, d_out)
  gemm(view(x), Transpose::yes, view(dy), Transpose::no, view_of(dW), 1.0f, 1.0f);
  if (db != nullptr) add_column_sums(dy, *db);
  // dx (T, d_in) = dy (T, d_out) · Wᵀ (d_out, d_in)
  ensure_shape(dx, T, d_in);
  gemm(view(dy), view(W), Transpose::yes, view(dx));
}

void norm_backward(const LayerNorm& norm, const Matrix& x, const Matrix& dy, Matrix& dx,
                   xt::xarray<float>& dgamma, xt::xarray<float>* dbeta) {
  const std::size_t T = x.shape(0), d = x.shape(1);
  require_shape(dy, T, d, "norm output gradient dy");
  require_size(dgamma, d, norm.gamma().name);
  if (dbeta != nullptr) require_size(*dbeta, d, norm.name() + ".beta");
  const bool rms = norm.kind() == NormKind::rms_norm;
  const float* gamma = norm.gamma().data();
  const float d_f = static_cast<float>(d);
  ensure_shape(dx, T, d);
  for (std::size_t t = 0; t < T; ++t) {
    const float* x_t = x.data() + t * d;
    const float* dy_t = dy.data() + t * d;
    float* dx_t = dx.data() + t * d;
    // Recompute mean and 1/std exactly as the forward did, same operations in the same order
    // (cheaper than storing them: O(d) per row).
    float mean = 0.0f;
    if (!rms) {
      float sum = 0.0f;
      for (std::size_t j = 0; j < d; ++j) sum += x_t[j];
      mean = sum / d_f;
    }
    float squares = 0.0f;
    for (std::size_t j = 0; j < d; ++j) squares += (x_t[j] - mean) * (x_t[j] - mean);
    const float r = 1.0f / std::sqrt(squares / d_f + norm.eps());
    // The two row means of the formula: mean(g) and mean(g ⊙ x̂), g = dy ⊙ γ.
    float g_sum = 0.0f, g_xhat_sum = 0.0f;
    for (std::size_t j = 0; j < d; ++j) {
      const float x_hat = (x_t[j] - mean) * r;
      const float g = dy_t[j] * gamma[j];
      g_sum += g;
      g_xhat_sum += g * x_hat;
      dgamma.data()[j] += dy_t[j] * x_hat;
      if (dbeta != nullptr) dbeta->data()[j] += dy_t[j];
    }
    // RMSNorm subtracts no mean in the forward, so no mean(g) comes back.
    const float g_mean = rms ? 0.0f : g_sum / d_f, g_xhat_mean = g_xhat_sum / d_f;
    for (std::size_t j = 0; j < d; ++j) {
      const float x_hat = (x_t[j] - mean) * r;
      dx_t[j] = r * (dy_t[j] * gamma[j] - g_mean - x_hat * g_xhat_mean);
    }
  }
}

float gelu_derivative(float x, GeluForm form) {
  if (form == GeluForm::exact) {
    // d/dx [x·Φ(x)] = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π).
    constexpr float inv_sqrt2 = 0.70710678118654752f;
    constexpr float inv_sqrt_2pi = 0.39894228040143268f;
    const float Phi = 0.5f * std::erfc(-x * inv_sqrt2);
    return Phi + x * inv_sqrt_2pi * std::exp(-0.5f * x * x);
  }
  constexpr float sqrt_2_over_pi = 0.79788456080286536f, c = 0.044715f;
  const float th = std::tanh(sqrt_2_over_pi * (x + c * x * x * x));
  const float du = sqrt_2_over_pi * (1.0f + 3.0f * c * x * x);  // u'(x)
  return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
}

void rope_backward(Matrix& dx, std::size_t n_heads, const RotaryTable& table, std::size_t position_offset) {
  const std::size_t T = dx.shape(0), d_model = dx.shape(1), d_head = table.d_head();
  if (d_model != n_heads * d_head || position_offset + T > table.max_positions()) {
    throw Error(fmt::format("rope_backward: ({}, {}) at offset {} does not fit {} heads of {} and "
                            "{} positions",
                            T, d_model, position_offset, n_heads, d_head, table.max_positions()));
  }
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t position = position_offset + t;
    for (std::size_t h = 0; h < n_heads; ++h) {
      float* head = dx.data() + t * d_model + h * d_head;
      for (std::size_t i = 0; i < d_head / 2; ++i) {
        // Forward: [e'; o'] = [[c, −s], [s, c]]·[e; o]. Backward multiplies by the transpose,
        // [[c, s], [−s, c]]: the same rotation by −angle.
        const float c = table.cos(position, i), s = table.sin(position, i);
        const float d_even = head[2 * i], d_odd = head[2 * i + 1];
        head[2 * i] = d_even * c + d_odd * s;
        head[2 * i + 1] = -d_even * s + d_odd * c;
      }
    }
  }
}

Matrix attention_backward(const CausalSelfAttention& attn, const ActivationStore& store, const Matrix& x,
                          const Matrix& dout, Gradients& grads, const BackwardOptions& options) {
  const std::size_t T = x.shape(0), d = x.shape(1);
  const std::size_t dh = attn.rope().d_head(), H = d / dh;
  require_shape(dout, T, d, "attention output gradient");
  const std::string& name = attn.name();
  const Matrix& q = store.at(name + ".q_rope", T, d);  // rotated: what the scores used
  const Matrix& k = store.at(name + ".k_rope", T, d);
  const Matrix& v = store.at(name + ".v", T, d);
  const Matrix& P = store.at(name + ".weights", H * T, T);  // head h: rows [h·T, (h+1)·T)
  const Matrix& heads = store.at(name + ".heads", T, d);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));

  // out = heads·W_o
  Matrix d_heads;
  linear_backward(heads, attn.W_o(), dout, d_heads, grads.at(attn.W_o().name), nullptr);

  // Per head h (column block h of q, k, v, heads, read through strided views as the forward
  // does): heads_h = P_h·v_h, P_h = softmax(S_h), S_h = scale·q_h·k_hᵀ.
  Matrix dq({T, d}), dk({T, d}), dv({T, d});
  std::vector<float> dS(T * T);  // dP, then dS in place, (T, T)
  for (std::size_t h = 0; h < H; ++h) {
    const float* P_h = P.data() + h * T * T;
    const MatrixView d_heads_h{d_heads.data() + h * dh, T, dh, d};
    // dv_h (T, dh) = P_hᵀ (T, T) · d_heads_h (T, dh)
    gemm({P_h, T, T, T}, Transpose::yes, d_heads_h, Transpose::no, {dv.data() + h * dh, T, dh, d},
            1.0f, 0.0f);
    // dP_h (T, T) = d_heads_h (T, dh) · v_hᵀ (dh, T)
    gemm(d_heads_h, {v.data() + h * dh, T, dh, d}, Transpose::yes, {dS.data(), T, T, T});
    // Softmax backward, row i: dS_ij = P_ij·(dP_ij − Σ_k P_ik·dP_ik) over the keys row i could
    // see. The masked entries (j > i) are set to exactly 0, never computed from dP: a query
    // sends no gradient to a key it never read, so causality holds bit for bit.
    for (std::size_t i = 0; i < T; ++i) {
      const std::size_t visible = options.causal_mask ? i + 1 : T;
      const float* P_i = P_h + i * T;
      float* row = dS.data() + i * T;
      float dot = 0.0f;
      for (std::size_t j = 0; j < visible; ++j) dot += P_i[j] * row[j];
      for (std::size_t j = 0; j < visible; ++j) row[j] = P_i[j] * (row[j] - dot);
      for (std::size_t j = visible; j < T; ++j) row[j] = 0.0f;
    }
    // S = scale·q_h·k_hᵀ:  dq_h = scale·dS·k_h,  dk_h = scale·dSᵀ·q_h
    gemm({dS.data(), T, T, T}, {k.data() + h * dh, T, dh, d}, Transpose::no,
         {dq.data() + h * dh, T, dh, d}, scale);
    gemm({dS.data(), T, T, T}, Transpose::yes, {q.data() + h * dh, T, dh, d}, Transpose::no,
            {dk.data() + h * dh, T, dh, d}, scale, 0.0f);
  }

  // q and k were rotated after the projections: rotate their gradients back.
  rope_backward(dq, H, attn.rope(), options.position_offset);
  rope_backward(dk, H, attn.rope(), options.position_offset);

  // q, k, v = x·W_q, x·W_k, x·W_v: x feeds all three, so dx is the sum of three products.
  Matrix dx, dx_part;
  linear_backward(x, attn.W_q(), dq, dx, grads.at(attn.W_q().name), nullptr);
  linear_backward(x, attn.W_k(), dk, dx_part, grads.at(attn.W_k().name), nullptr);
  add_into(dx, dx_part);
  linear_backward(x, attn.W_v(), dv, dx_part, grads.at(attn.W_v().name), nullptr);
  add_into(dx, dx_part);
  return dx;
}

Matrix ffn_backward(const FeedForward& ffn, const ActivationStore& store, const Matrix& x,
                    const Matrix& dout, Gradients& grads) {
  const std::size_t T = x.shape(0), f = ffn.W_1().value.shape(1);
  const Matrix& pre = store.at(ffn.name() + ".pre", T, f);
  const Matrix& activated = store.at(ffn.name() + ".gelu", T, f);

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

void lm_head_backward(const Matrix& h, const Parameter& E, const Matrix& dlogits, Matrix& dh,
                      xt::xarray<float>& dE) {
  const std::size_t T = h.shape(0), V = E.value.shape(0), d = E.value.shape(1);
  require_shape(h, T, d, "head input h");
  require_shape(dlogits, T, V, "dlogits");
  require_size(dE, V * d, "E");
  // dE (V, d) += dlogitsᵀ (V, T) · h (T, d)
  gemm(view(dlogits), Transpose::yes, view(h), Transpose::no, view_of(dE), 1.0f, 1.0f);
  // dh (T, d) = dlogits (T, V) · E (V, d)
  ensure_shape(dh, T, d);
  gemm(view(dlogits), view(E), Transpose::no, view(dh));
}

void embedding_backward(std::span<const TokenId> tokens, const Matrix& dh0, xt::xarray<float>& dE) {
  const std::size_t T = tokens.size(), d = dh0.shape(1), V = dE.shape(0);
  if (dh0.shape(0) != T || dE.dimension() != 2 || dE.shape(1) != d) {
    throw Error("embedding_backward: dh0 must be (T, d_model) and dE (vocab_size, d_model)");
  }
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t id = static_cast<std::size_t>(tokens[t]);
    if (id >= V) throw Error(fmt::format("embedding_backward: token id {} >= vocab_size {}", id, V));
    float* row = dE.data() + id * d;
    const float* g = dh0.data() + t * d;
    for (std::size_t j = 0; j < d; ++j) row[j] += g[j];
  }
}

// ---------------------------------------------------------------------------------------------
// Block and model

Matrix block_backward(const TransformerBlock& block, const ActivationStore& store, const Matrix& x,
                      const Matrix& dy, Gradients& grads, const BackwardOptions& options) {
  const std::size_t T = x.shape(0), d = x.shape(1);
  require_shape(dy, T, d, "block output gradient dy");
  const std::string& name = block.name();
  const Matrix& z = store.at(name + ".resid1", T, d);
  const Matrix& ln1 = store.at(name + ".ln1", T, d);
  const Matrix& ln2 = store.at(name + ".ln2", T, d);
  auto beta_grad = [&](const LayerNorm& n) { return n.beta() ? &grads.at(n.beta()->name) : nullptr; };

  // y = z + FFN(LN2(z)): the gradient reaches z twice, straight down the identity path and
  // back through the branch.
  const Matrix d_ln2 = ffn_backward(block.ffn(), store, ln2, dy, grads);
  Matrix dz;
  norm_backward(block.ln2(), z, d_ln2, dz, grads.at(block.ln2().gamma().name), beta_grad(block.ln2()));
  add_into(dz, dy);

  // z = x + MHA(LN1(x)): the same again.
  const Matrix d_ln1 = attention_backward(block.attn(), store, ln1, dz, grads, options);
  Matrix dx;
  norm_backward(block.ln1(), x, d_ln1, dx, grads.at(block.ln1().gamma().name), beta_grad(block.ln1()));
  add_into(dx, dz);
  return dx;
}

Gradients backward(const MiniGPT& model, const ActivationStore& store, std::span<const TokenId> tokens,
                   const Matrix& dlogits, const BackwardOptions& options) {
  const MiniGPTConfig& config = model.config();
  model.validate_tokens(tokens, options.position_offset);
  const std::size_t T = tokens.size(), d = config.d_model(), V = config.vocab_size(), L = config.n_layers();
  require_shape(dlogits, T, V, "dlogits");
  const Parameter& E = model.embedding().E();

  // The store must hold the forward of these tokens: its embed rows are E[tokens], exactly.
  const Matrix& h0 = store.at("embed", T, d);
  for (std::size_t t = 0; t < T; ++t) {
    const float* row = E.data() + static_cast<std::size_t>(tokens[t]) * d;
    if (!std::equal(row, row + d, h0.data() + t * d)) {
      throw Error(fmt::format("backward: the activation store holds another forward (its embed row "
                              "{} is not E[{}])",
                              t, tokens[t]));
    }
  }

  Gradients grads = zero_gradients(model.parameters());
  xt::xarray<float>& dE = grads.at(E.name);

  // logits = h·Eᵀ (the tied head: its gradient goes to E)
  Matrix dh;
  lm_head_backward(store.at("ln_final", T, d), model.lm_head().weight(), dlogits, dh, dE);

  // ln_final, whose input is the last block's output
  const auto block_output = [&](std::size_t i) -> const Matrix& {
    return store.at(fmt::format("block_{}.resid2", i), T, d);
  };
  const LayerNorm& ln_final = model.ln_final();
  Matrix d_blocks;
  norm_backward(ln_final, block_output(L - 1), dh, d_blocks, grads.at(ln_final.gamma().name),
                ln_final.beta() ? &grads.at(ln_final.beta()->name) : nullptr);

  // The blocks, last first. Block i's input is block i−1's output, or the embeddings.
  for (std::size_t i = L; i-- > 0;) {
    const Matrix& x = i == 0 ? h0 : block_output(i - 1);
    d_blocks = block_backward(model.block(i), store, x, d_blocks, grads, options);
  }

  // h0 = E[tokens]: E's second gradient, added to the head's (tied: one tensor, two uses).
  embedding_backward(tokens, d_blocks, dE);
  grads.d_embeddings = std::move(d_blocks);
  return grads;
}

}  // namespace minimodel
