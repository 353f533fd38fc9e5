// The reference backward, in the order the gradient flows: from the logits down to the
// embeddings. Every activation is read from the reference forward's recorded steps, by the
// same names the model's trace uses.
#include "minimodel/backward/reference_backward.hpp"

#include <cmath>
#include <fmt/format.h>
#include <numbers>
#include <string>
#include <vector>

#include "minimodel/errors.hpp"

namespace minimodel::reference {

namespace {

using Dims = std::vector<std::size_t>;

void require(bool ok, std::string_view what) {
  if (!ok) throw Error(fmt::format("reference backward: {}", what));
}

// A weight as read by the forward: by name, an Error when absent.
const Tensor& weight(const Weights& w, const std::string& name) {
  const auto it = w.find(name);
  if (it == w.end()) throw Error(fmt::format("no parameter named '{}'", name));
  return it->second;
}

// ---------------------------------------------------------------------------------------------
// y = x·W (+ b), x (T, n), W (n, m), dy (T, m):
//   dx = dy·Wᵀ (T, n),  dW += xᵀ·dy (n, m),  db += Σ_t dy[t] (m,)
Tensor linear_backward(const Tensor& x, const Tensor& W, const Tensor& dy, Tensor& dW, Tensor* db) {
  const std::size_t T = x.shape[0], n = W.shape[0], m = W.shape[1];
  require(x.shape[1] == n && dy.shape == Dims{T, m}, "linear: shapes do not fit");
  Tensor dx = zeros({T, n});
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      double sum = 0.0;
      for (std::size_t j = 0; j < m; ++j) sum += dy.data[t * m + j] * W.data[i * m + j];
      dx.data[t * n + i] = sum;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      double sum = 0.0;
      for (std::size_t t = 0; t < T; ++t) sum += x.data[t * n + i] * dy.data[t * m + j];
      dW.data[i * m + j] += sum;
    }
  }
  if (db != nullptr) {
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t j = 0; j < m; ++j) db->data[j] += dy.data[t * m + j];
    }
  }
  return dx;
}

// LayerNorm (rms = false) or RMSNorm (rms = true) on input x (T, d), dy (T, d).
// Per row: x̂ = (x − μ)/s with s = √(σ² + eps) (RMSNorm: μ = 0, σ² = mean x²), y = γ·x̂ + β.
// Differentiating x̂ by hand, with g = γ ⊙ dy:  dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / s.
Tensor norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& dy, double eps, bool rms,
                     Tensor& dgamma, Tensor* dbeta) {
  const std::size_t T = x.shape[0], d = x.shape[1];
  require(dy.shape == x.shape && gamma.data.size() == d, "norm: shapes do not fit");
  Tensor dx = zeros({T, d});
  const double n = static_cast<double>(d);
  for (std::size_t t = 0; t < T; ++t) {
    const double* x_t = &x.data[t * d];
    const double* dy_t = &dy.data[t * d];
    double mean = 0.0;
    if (!rms) {
      for (std::size_t j = 0; j < d; ++j) mean += x_t[j];
      mean /= n;
    }
    double variance = 0.0;
    for (std::size_t j = 0; j < d; ++j) variance += (x_t[j] - mean) * (x_t[j] - mean);
    variance /= n;
    const double s = std::sqrt(variance + eps);
    std::vector<double> x_hat(d), g(d);
    double g_mean = 0.0, g_xhat_mean = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      x_hat[j] = (x_t[j] - mean) / s;
      g[j] = gamma.data[j] * dy_t[j];
      g_mean += g[j] / n;
      g_xhat_mean += g[j] * x_hat[j] / n;
      dgamma.data[j] += dy_t[j] * x_hat[j];
      if (dbeta != nullptr) dbeta->data[j] += dy_t[j];
    }
    if (rms) g_mean = 0.0;  // no mean was subtracted, so none comes back
    for (std::size_t j = 0; j < d; ++j) {
      dx.data[t * d + j] = (g[j] - g_mean - x_hat[j] * g_xhat_mean) / s;
    }
  }
  return dx;
}

// In place: the gradient of RoPE's output -> the gradient of its input. RoPE rotates each
// interleaved pair (2i, 2i+1) of row t by a = (offset + t)·base^(−2i/d_head); the Jacobian
// is that rotation, its transpose the rotation by −a.
void rope_backward(Tensor& d_rotated, std::size_t n_heads, double base, std::size_t position_offset) {
  const std::size_t T = d_rotated.shape[0], d = d_rotated.shape[1], d_head = d / n_heads;
  for (std::size_t t = 0; t < T; ++t) {
    const double position = static_cast<double>(position_offset + t);
    for (std::size_t h = 0; h < n_heads; ++h) {
      double* pair_base = &d_rotated.data[t * d + h * d_head];
      for (std::size_t i = 0; i < d_head / 2; ++i) {
        const double theta = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d_head));
        const double c = std::cos(-position * theta), s = std::sin(-position * theta);
        const double even = pair_base[2 * i], odd = pair_base[2 * i + 1];
        pair_base[2 * i] = even * c - odd * s;
        pair_base[2 * i + 1] = even * s + odd * c;
      }
    }
  }
}

// The gradients of one block's weights, in a map of their full names.
struct BlockNames {
  std::string ln1_gamma, ln1_beta, W_q, W_k, W_v, W_o, ln2_gamma, ln2_beta, W_1, b_1, W_2, b_2;
  explicit BlockNames(const std::string& p)
      : ln1_gamma(p + ".ln1.gamma"), ln1_beta(p + ".ln1.beta"), W_q(p + ".attn.W_q"),
        W_k(p + ".attn.W_k"), W_v(p + ".attn.W_v"), W_o(p + ".attn.W_o"),
        ln2_gamma(p + ".ln2.gamma"), ln2_beta(p + ".ln2.beta"), W_1(p + ".ffn.W_1"),
        b_1(p + ".ffn.b_1"), W_2(p + ".ffn.W_2"), b_2(p + ".ffn.b_2") {}
};

// The gradient slot of `name`, created as zeros in the weight's shape on first use.
Tensor& slot(Weights& grads, const Weights& weights, const std::string& name) {
  auto it = grads.find(name);
  if (it == grads.end()) it = grads.emplace(name, zeros(weight(weights, name).shape)).first;
  return it->second;
}

// dx of block `index` from dy, reading the activations from `result`'s steps. Adds the
// block's weight gradients into `grads`.
Tensor run_block_backward(const MiniGPTConfig& config, const Weights& weights, std::size_t index,
                          const Result& result, const Tensor& x, const Tensor& dy,
                          const Options& options, Weights& grads) {
  const std::string p = fmt::format("block_{}", index);
  const BlockNames n(p);
  const bool rms = config.norm() == NormKind::rms_norm, biases = config.ffn_biases();
  const std::size_t T = x.shape[0], d = config.d_model(), H = config.n_heads(), dh = config.d_head();
  auto beta_slot = [&](const std::string& name) { return rms ? nullptr : &slot(grads, weights, name); };
  auto bias_slot = [&](const std::string& name) { return biases ? &slot(grads, weights, name) : nullptr; };

  // ---- y = z + FFN(LN2(z))
  const Tensor& pre = step(result, p + ".ffn.pre");
  const Tensor& activated = step(result, p + ".ffn.gelu");
  Tensor d_act = linear_backward(activated, weight(weights, n.W_2), dy, slot(grads, weights, n.W_2),
                                 bias_slot(n.b_2));
  for (std::size_t i = 0; i < d_act.data.size(); ++i) d_act.data[i] *= gelu_derivative(pre.data[i], config.gelu());
  const Tensor d_ln2 = linear_backward(step(result, p + ".ln2"), weight(weights, n.W_1), d_act,
                                       slot(grads, weights, n.W_1), bias_slot(n.b_1));
  const Tensor& z = step(result, p + ".resid1");
  Tensor dz = norm_backward(z, weight(weights, n.ln2_gamma), d_ln2, config.ln_eps(), rms,
                            slot(grads, weights, n.ln2_gamma), beta_slot(n.ln2_beta));
  for (std::size_t i = 0; i < dz.data.size(); ++i) dz.data[i] += dy.data[i];  // identity path

  // ---- z = x + MHA(LN1(x))
  const Tensor& q = step(result, p + ".attn.q_rope");
  const Tensor& k = step(result, p + ".attn.k_rope");
  const Tensor& v = step(result, p + ".attn.v");
  const Tensor& P = step(result, p + ".attn.weights");  // (H, T, T)
  const Tensor d_heads = linear_backward(step(result, p + ".attn.heads"), weight(weights, n.W_o), dz,
                                         slot(grads, weights, n.W_o), nullptr);
  Tensor dq = zeros({T, d}), dk = zeros({T, d}), dv = zeros({T, d});
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  for (std::size_t h = 0; h < H; ++h) {
    const std::size_t c0 = h * dh;  // head h's first column
    auto P_at = [&](std::size_t i, std::size_t j) { return P.data[(h * T + i) * T + j]; };
    for (std::size_t i = 0; i < T; ++i) {
      // Row i of this head: heads[i] = Σ_j P_ij v[j];  dP_ij = d_heads[i]·v[j]
      const std::size_t keys = options.causal_mask ? i + 1 : T;  // masked keys get nothing
      std::vector<double> dP(keys);
      for (std::size_t j = 0; j < keys; ++j) {
        for (std::size_t c = 0; c < dh; ++c) {
          dP[j] += d_heads.data[i * d + c0 + c] * v.data[j * d + c0 + c];
          dv.data[j * d + c0 + c] += P_at(i, j) * d_heads.data[i * d + c0 + c];
        }
      }
      // softmax: dS_ij = P_ij·(dP_ij − Σ_k P_ik dP_ik)
      double weighted = 0.0;
      for (std::size_t j = 0; j < keys; ++j) weighted += P_at(i, j) * dP[j];
      for (std::size_t j = 0; j < keys; ++j) {
        const double dS = P_at(i, j) * (dP[j] - weighted);
        // S_ij = scale·q[i]·k[j]
        for (std::size_t c = 0; c < dh; ++c) {
          dq.data[i * d + c0 + c] += scale * dS * k.data[j * d + c0 + c];
          dk.data[j * d + c0 + c] += scale * dS * q.data[i * d + c0 + c];
        }
      }
    }
  }
  rope_backward(dq, H, config.rope_base(), options.position_offset);
  rope_backward(dk, H, config.rope_base(), options.position_offset);
  const Tensor& ln1 = step(result, p + ".ln1");
  Tensor d_ln1 = linear_backward(ln1, weight(weights, n.W_q), dq, slot(grads, weights, n.W_q), nullptr);
  const Tensor from_k = linear_backward(ln1, weight(weights, n.W_k), dk, slot(grads, weights, n.W_k), nullptr);
  const Tensor from_v = linear_backward(ln1, weight(weights, n.W_v), dv, slot(grads, weights, n.W_v), nullptr);
  for (std::size_t i = 0; i < d_ln1.data.size(); ++i) d_ln1.data[i] += from_k.data[i] + from_v.data[i];
  Tensor dx = norm_backward(x, weight(weights, n.ln1_gamma), d_ln1, config.ln_eps(), rms,
                            slot(grads, weights, n.ln1_gamma), beta_slot(n.ln1_beta));
  for (std::size_t i = 0; i < dx.data.size(); ++i) dx.data[i] += dz.data[i];  // identity path
  return dx;
}

}  // namespace

double gelu_derivative(double x, GeluForm form) {
  if (form == GeluForm::exact) {
    const double Phi = 0.5 * (1.0 + std::erf(x / std::numbers::sqrt2));
    const double phi = std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
    return Phi + x * phi;
  }
  const double a = std::sqrt(2.0 / std::numbers::pi), c = 0.044715;
  const double th = std::tanh(a * (x + c * x * x * x));
  return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * a * (1.0 + 3.0 * c * x * x);
}

Gradients backward(const MiniGPTConfig& config, const Weights& weights, std::span<const TokenId> tokens,
                   const Tensor& dlogits, const Options& options) {
  Options keep = options;
  keep.keep_steps = true;
  const Result result = forward(config, weights, tokens, keep);
  const std::size_t T = tokens.size(), d = config.d_model(), V = config.vocab_size();
  require(dlogits.shape == Dims{T, V} && dlogits.data.size() == T * V, "dlogits must be (T, vocab_size)");

  Gradients g;
  for (const auto& [name, w] : weights) g.parameters.emplace(name, zeros(w.shape));
  const Tensor& E = weight(weights, "E");
  Tensor& dE = g.parameters.at("E");

  // logits[t][v] = Σ_j h[t][j]·E[v][j]  ->  dh[t][j] = Σ_v dlogits[t][v]·E[v][j],
  //                                         dE[v][j] += Σ_t dlogits[t][v]·h[t][j]
  const Tensor& h = step(result, "ln_final");
  Tensor dh = zeros({T, d});
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t v = 0; v < V; ++v) {
      const double g_tv = dlogits.data[t * V + v];
      for (std::size_t j = 0; j < d; ++j) {
        dh.data[t * d + j] += g_tv * E.data[v * d + j];
        dE.data[v * d + j] += g_tv * h.data[t * d + j];
      }
    }
  }

  const bool rms = config.norm() == NormKind::rms_norm;
  const std::size_t L = config.n_layers();
  auto block_input = [&](std::size_t i) -> const Tensor& {
    return i == 0 ? step(result, "embed") : step(result, fmt::format("block_{}.resid2", i - 1));
  };
  Tensor dx = norm_backward(step(result, fmt::format("block_{}.resid2", L - 1)),
                            weight(weights, "ln_final.gamma"), dh, config.ln_eps(), rms,
                            g.parameters.at("ln_final.gamma"),
                            rms ? nullptr : &g.parameters.at("ln_final.beta"));
  for (std::size_t i = L; i-- > 0;) {
    dx = run_block_backward(config, weights, i, result, block_input(i), dx, options, g.parameters);
  }

  // h0[t] = E[tokens[t]]: each looked-up row receives its position's gradient.
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t id = static_cast<std::size_t>(tokens[t]);
    for (std::size_t j = 0; j < d; ++j) dE.data[id * d + j] += dx.data[t * d + j];
  }
  g.d_embeddings = std::move(dx);
  return g;
}

Gradients block_backward(const MiniGPTConfig& config, const Weights& weights, std::size_t index,
                         const Tensor& x, const Tensor& dy, const Options& options) {
  Options keep = options;
  keep.keep_steps = true;
  const Result result = block_forward(config, weights, index, x, keep);
  require(dy.shape == result.output.shape, "dy must have the block output's shape (T, d_model)");
  Gradients g;
  g.d_embeddings = run_block_backward(config, weights, index, result, x, dy, options, g.parameters);
  return g;
}

}  // namespace minimodel::reference
