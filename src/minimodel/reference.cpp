// The hand-made reference: the forward of CONVENTIONS.md §8 written again, slowly, in plain loops and
// double precision. Read it top to bottom as the data flows:
//
//   tokens (T,) -> embed -> [ln1 -> attention -> residual -> ln2 -> FFN -> residual] x L
//               -> ln_final -> logits = h·Eᵀ (T, V)
//
// Nothing here is shared with the fast path (no xtensor arithmetic, no BLAS, no helper of the
// model): the weights are read by their names (CONVENTIONS.md §9) from the registry and copied into doubles,
// and that copy is the only place the model's storage is touched.
#include "minimodel/reference.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/vocab.hpp"

namespace minimodel::reference {

namespace {

using Dims = std::vector<std::size_t>;

// The causal mask value: -infinity, so that exp() of a masked score is exactly 0.
constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

std::size_t element_count(const Dims& shape) {
  std::size_t n = 1;
  for (std::size_t extent : shape) n *= extent;
  return n;
}

std::string shape_text(const Dims& shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

// A (rows, cols) matrix whose data matches its shape, or an Error naming `what`.
void require_matrix(const Tensor& m, std::string_view what) {
  if (m.shape.size() != 2 || m.data.size() != element_count(m.shape)) {
    throw Error(fmt::format("reference: {} must be a matrix (rows, cols) holding rows·cols "
                            "values; got shape {} with {} values",
                            what, shape_text(m.shape), m.data.size()));
  }
}

std::size_t rows(const Tensor& m) { return m.shape[0]; }
std::size_t cols(const Tensor& m) { return m.shape[1]; }

// ---------------------------------------------------------------------------------------------
// Weights: read by name (CONVENTIONS.md §9), shape checked against what the config says it must be.

// Where the weights come from: the model's fp32 registry (every comparison with the model), or
// a set of doubles (the finite-difference checks of the backward, which perturb a weight by far
// less than an fp32 ulp). Exactly one of the two is set.
struct WeightSource {
  const ParameterRegistry* registry = nullptr;
  const Weights* doubles = nullptr;
};

void require_shape(const std::string& name, const Dims& held, const Dims& expected) {
  if (held != expected) {
    throw Error(fmt::format("reference: parameter {} has shape {}, but the config needs {}", name,
                            shape_text(held), shape_text(expected)));
  }
}

Tensor read_weight(const WeightSource& source, const std::string& name, const Dims& expected) {
  if (source.doubles != nullptr) {
    const auto it = source.doubles->find(name);
    if (it == source.doubles->end()) throw Error(fmt::format("no parameter named '{}'", name));
    require_shape(name, it->second.shape, expected);
    if (it->second.data.size() != element_count(expected)) {
      throw Error(fmt::format("reference: parameter {} holds {} values for shape {}", name,
                              it->second.data.size(), shape_text(expected)));
    }
    return it->second;
  }
  const Parameter& parameter = source.registry->at(name);
  require_shape(name, parameter.shape(), expected);
  Tensor w = zeros(expected);
  const float* stored = parameter.data();
  for (std::size_t i = 0; i < parameter.numel(); ++i) w.data[i] = static_cast<double>(stored[i]);
  return w;
}

// The weights of one block, as doubles. Linear maps are (d_in, d_out): y = x·W + b.
struct BlockWeights {
  Tensor ln1_gamma, ln1_beta;  // (d,)
  Tensor W_q, W_k, W_v, W_o;   // (d, d), no biases
  Tensor ln2_gamma, ln2_beta;  // (d,)
  Tensor W_1, b_1;             // (d, d_ff), (d_ff,)
  Tensor W_2, b_2;             // (d_ff, d), (d,)
};

BlockWeights read_block_weights(const MiniGPTConfig& config, const WeightSource& weights,
                                const std::string& prefix) {
  const std::size_t d = config.d_model(), f = config.d_ff();
  auto read = [&](const char* suffix, const Dims& shape) {
    return read_weight(weights, prefix + suffix, shape);
  };
  // The variants leave some tensors out: RMSNorm has no beta, and a model without FFN biases
  // no b_1 and b_2. Those stay empty here.
  const bool betas = config.norm() == NormKind::layer_norm, biases = config.ffn_biases();
  auto read_if = [&](bool present, const char* suffix, const Dims& shape) {
    return present ? read(suffix, shape) : Tensor{};
  };
  return BlockWeights{read(".ln1.gamma", {d}),   read_if(betas, ".ln1.beta", {d}),
                      read(".attn.W_q", {d, d}), read(".attn.W_k", {d, d}),
                      read(".attn.W_v", {d, d}), read(".attn.W_o", {d, d}),
                      read(".ln2.gamma", {d}),   read_if(betas, ".ln2.beta", {d}),
                      read(".ffn.W_1", {d, f}),  read_if(biases, ".ffn.b_1", {f}),
                      read(".ffn.W_2", {f, d}),  read_if(biases, ".ffn.b_2", {d})};
}

Tensor layer_or_rms_norm(const MiniGPTConfig& config, const Tensor& x, const Tensor& gamma,
                         const Tensor& beta) {
  return config.norm() == NormKind::layer_norm ? layer_norm(x, gamma.data, beta.data, config.ln_eps())
                                               : rms_norm(x, gamma.data, config.ln_eps());
}

// ---------------------------------------------------------------------------------------------
// Matrix arithmetic, the obvious way.

// a (n, k) · b (k, m) -> (n, m)
Tensor matmul(const Tensor& a, const Tensor& b) {
  require_matrix(a, "matmul's left operand");
  require_matrix(b, "matmul's right operand");
  const std::size_t n = rows(a), k = cols(a), m = cols(b);
  if (rows(b) != k) {
    throw Error(fmt::format("reference: matmul of {} by {}: inner sizes differ", shape_text(a.shape),
                            shape_text(b.shape)));
  }
  Tensor out = zeros({n, m});
  for (std::size_t i = 0; i < n; ++i) {
    const double* a_row = &a.data[i * k];
    double* out_row = &out.data[i * m];
    for (std::size_t j = 0; j < m; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < k; ++p) sum += a_row[p] * b.data[p * m + j];
      out_row[j] = sum;
    }
  }
  return out;
}

// m (n, k) -> mᵀ (k, n)
Tensor transpose(const Tensor& m) {
  require_matrix(m, "transpose's operand");
  const std::size_t n = rows(m), k = cols(m);
  Tensor out = zeros({k, n});
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < k; ++j) out.data[j * n + i] = m.data[i * k + j];
  }
  return out;
}

// x (T, d_in) · W (d_in, d_out) -> (T, d_out): a linear map without a bias.
Tensor linear(const Tensor& x, const Tensor& W) { return matmul(x, W); }

// x (T, d_in) · W (d_in, d_out) + b (d_out,) -> (T, d_out): the bias is added to every row.
Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b) {
  Tensor y = matmul(x, W);
  const std::size_t n = rows(y), m = cols(y);
  if (b.data.size() != m) {
    throw Error(fmt::format("reference: bias of {} values for a layer of {} outputs",
                            b.data.size(), m));
  }
  for (std::size_t t = 0; t < n; ++t) {
    double* y_row = &y.data[t * m];
    for (std::size_t j = 0; j < m; ++j) y_row[j] += b.data[j];
  }
  return y;
}

// a + b, elementwise, same shape: a residual connection.
Tensor add(const Tensor& a, const Tensor& b) {
  if (a.shape != b.shape) {
    throw Error(fmt::format("reference: cannot add {} and {}", shape_text(a.shape),
                            shape_text(b.shape)));
  }
  Tensor out = a;
  for (std::size_t i = 0; i < out.data.size(); ++i) out.data[i] += b.data[i];
  return out;
}

// m (T, d) -> columns [first, first + width) of it, (T, width): one head's block.
Tensor column_block(const Tensor& m, std::size_t first, std::size_t width) {
  const std::size_t T = rows(m), d = cols(m);
  Tensor out = zeros({T, width});
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t j = 0; j < width; ++j) out.data[t * width + j] = m.data[t * d + first + j];
  }
  return out;
}

// Writes block (T, width) into columns [first, first + width) of m (T, d): the concat.
void set_column_block(Tensor& m, std::size_t first, const Tensor& block) {
  const std::size_t T = rows(m), d = cols(m), width = cols(block);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t j = 0; j < width; ++j) m.data[t * d + first + j] = block.data[t * width + j];
  }
}

// ---------------------------------------------------------------------------------------------
// Recording the intermediates (only when Options::keep_steps).

class StepLog {
 public:
  explicit StepLog(std::vector<Step>* steps) : steps_(steps) {}
  void keep(std::string name, const Tensor& value) {
    if (steps_ != nullptr) steps_->push_back(Step{std::move(name), value});
  }

 private:
  std::vector<Step>* steps_;  // null: record nothing
};

// ---------------------------------------------------------------------------------------------
// Attention, one head at a time.

// x (T, d) -> (T, d), the causal multi-head self-attention of block `prefix`.
Tensor attention(const MiniGPTConfig& config, const BlockWeights& w, const std::string& prefix,
                 const Tensor& x, const Options& options, StepLog& log) {
  const std::size_t T = rows(x), d = config.d_model(), H = config.n_heads(), dh = config.d_head();

  // Projections, no biases: (T, d)·(d, d) -> (T, d).
  const Tensor q = linear(x, w.W_q);
  const Tensor k = linear(x, w.W_k);
  const Tensor v = linear(x, w.W_v);
  log.keep(prefix + ".q", q);
  log.keep(prefix + ".k", k);
  log.keep(prefix + ".v", v);

  // RoPE rotates q and k only: v carries content, not position.
  const Tensor q_rope = rope(q, H, config.rope_base(), options.position_offset);
  const Tensor k_rope = rope(k, H, config.rope_base(), options.position_offset);
  log.keep(prefix + ".q_rope", q_rope);
  log.keep(prefix + ".k_rope", k_rope);

  // scores (H, T, T): head h's (T, T) block is q_h·k_hᵀ/√d_head, every entry computed (the
  // mask is a separate step).
  Tensor scores = zeros({H, T, T});
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  for (std::size_t h = 0; h < H; ++h) {
    const Tensor q_h = column_block(q_rope, h * dh, dh);  // (T, d_head)
    const Tensor k_h = column_block(k_rope, h * dh, dh);  // (T, d_head)
    const Tensor scores_h = matmul(q_h, transpose(k_h));  // (T, T)
    for (std::size_t i = 0; i < T * T; ++i) scores.data[h * T * T + i] = scores_h.data[i] * scale;
  }
  log.keep(prefix + ".scores", scores);

  // Causal mask: query i may not look at key j > i. The diagonal stays, so no row is empty.
  Tensor masked = scores;
  if (options.causal_mask) {
    for (std::size_t h = 0; h < H; ++h) {
      double* masked_h = &masked.data[h * T * T];
      for (std::size_t i = 0; i < T; ++i) {
        for (std::size_t j = i + 1; j < T; ++j) masked_h[i * T + j] = kMinusInfinity;
      }
    }
  }
  log.keep(prefix + ".masked", masked);

  Tensor weights = masked;
  softmax_last_axis(weights);  // over the keys j of each (head, query) row
  log.keep(prefix + ".weights", weights);

  // heads (T, d): head h's output weights_h (T, T) · v_h (T, d_head) fills column block h.
  Tensor heads = zeros({T, d});
  for (std::size_t h = 0; h < H; ++h) {
    Tensor weights_h = zeros({T, T});
    for (std::size_t i = 0; i < T * T; ++i) weights_h.data[i] = weights.data[h * T * T + i];
    const Tensor v_h = column_block(v, h * dh, dh);
    set_column_block(heads, h * dh, matmul(weights_h, v_h));
  }
  log.keep(prefix + ".heads", heads);

  Tensor out = linear(heads, w.W_o);  // (T, d)·(d, d) -> (T, d)
  log.keep(prefix + ".out", out);
  return out;
}

// x (T, d) -> (T, d): GELU(x·W_1 + b_1)·W_2 + b_2 of block `prefix`.
Tensor feed_forward(const MiniGPTConfig& config, const BlockWeights& w, const std::string& prefix,
                    const Tensor& x, StepLog& log) {
  const bool biases = config.ffn_biases();
  const Tensor pre = biases ? linear(x, w.W_1, w.b_1) : linear(x, w.W_1);  // (T, d) -> (T, d_ff)
  log.keep(prefix + ".pre", pre);

  Tensor activated = pre;
  for (double& value : activated.data) value = gelu(value, config.gelu());
  log.keep(prefix + ".gelu", activated);

  Tensor out = biases ? linear(activated, w.W_2, w.b_2) : linear(activated, w.W_2);  // (T, d_ff) -> (T, d)
  log.keep(prefix + ".out", out);
  return out;
}

// x (T, d) -> y (T, d), the Pre-LN block block_<index>. x has been validated.
Tensor run_block(const MiniGPTConfig& config, const WeightSource& weights, std::size_t index,
                 const Tensor& x, const Options& options, StepLog& log) {
  const std::string prefix = fmt::format("block_{}", index);
  const BlockWeights w = read_block_weights(config, weights, prefix);
  // z = x + MHA(LN1(x))
  const Tensor ln1 = layer_or_rms_norm(config, x, w.ln1_gamma, w.ln1_beta);
  log.keep(prefix + ".ln1", ln1);
  const Tensor z = add(x, attention(config, w, prefix + ".attn", ln1, options, log));
  log.keep(prefix + ".resid1", z);

  // y = z + FFN(LN2(z))
  const Tensor ln2 = layer_or_rms_norm(config, z, w.ln2_gamma, w.ln2_beta);
  log.keep(prefix + ".ln2", ln2);
  Tensor y = add(z, feed_forward(config, w, prefix + ".ffn", ln2, log));
  log.keep(prefix + ".resid2", y);
  return y;
}

// The positions a forward of T rows uses, offset .. offset + T - 1, must lie in the context.
void check_length(std::size_t T, std::size_t position_offset, std::size_t context_len,
                  std::string_view what) {
  if (T == 0) {
    throw InputError(fmt::format("reference: {} is empty; rule: T >= 1", what));
  }
  if (position_offset + T > context_len) {
    throw InputError(fmt::format(
        "reference: {} has T = {} rows starting at position offset {}; rule: position_offset + "
        "T <= context_len = {}",
        what, T, position_offset, context_len));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The building blocks.

Tensor zeros(const std::vector<std::size_t>& shape) {
  return Tensor{shape, std::vector<double>(element_count(shape), 0.0)};
}

double gelu(double x, GeluForm form) {
  if (form == GeluForm::exact) {
    return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2));  // x·Φ(x)
  }
  const double sqrt_2_over_pi = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + std::tanh(sqrt_2_over_pi * (x + 0.044715 * x * x * x)));
}

Tensor layer_norm(const Tensor& x, std::span<const double> gamma, std::span<const double> beta,
                  double eps) {
  require_matrix(x, "layer_norm's input");
  const std::size_t T = rows(x), d = cols(x);
  if (gamma.size() != d || beta.size() != d) {
    throw Error(fmt::format("reference: layer_norm over {} features given {} gammas and {} betas",
                            d, gamma.size(), beta.size()));
  }
  Tensor y = zeros({T, d});
  for (std::size_t t = 0; t < T; ++t) {
    const double* x_t = &x.data[t * d];
    double* y_t = &y.data[t * d];
    double mean = 0.0;
    for (std::size_t j = 0; j < d; ++j) mean += x_t[j];
    mean /= static_cast<double>(d);
    double variance = 0.0;
    for (std::size_t j = 0; j < d; ++j) variance += (x_t[j] - mean) * (x_t[j] - mean);
    variance /= static_cast<double>(d);  // biased (population) variance: divide by d
    const double inv_std = 1.0 / std::sqrt(variance + eps);  // eps inside the square root
    for (std::size_t j = 0; j < d; ++j) y_t[j] = gamma[j] * (x_t[j] - mean) * inv_std + beta[j];
  }
  return y;
}

Tensor rms_norm(const Tensor& x, std::span<const double> gamma, double eps) {
  require_matrix(x, "rms_norm's input");
  const std::size_t T = rows(x), d = cols(x);
  if (gamma.size() != d) {
    throw Error(fmt::format("reference: rms_norm over {} features given {} gains", d, gamma.size()));
  }
  Tensor y = zeros({T, d});
  for (std::size_t t = 0; t < T; ++t) {
    const double* x_t = &x.data[t * d];
    double* y_t = &y.data[t * d];
    double mean_square = 0.0;
    for (std::size_t j = 0; j < d; ++j) mean_square += x_t[j] * x_t[j];
    mean_square /= static_cast<double>(d);
    const double inv_rms = 1.0 / std::sqrt(mean_square + eps);  // no mean subtracted, no beta
    for (std::size_t j = 0; j < d; ++j) y_t[j] = gamma[j] * x_t[j] * inv_rms;
  }
  return y;
}

Tensor rope(const Tensor& x, std::size_t n_heads, double base, std::size_t position_offset) {
  require_matrix(x, "rope's input");
  const std::size_t T = rows(x), d = cols(x);
  if (n_heads == 0 || d % n_heads != 0 || (d / n_heads) % 2 != 0) {
    throw Error(fmt::format("reference: rope on {} columns with {} heads; rule: d = n_heads·d_head "
                            "with d_head even",
                            d, n_heads));
  }
  const std::size_t d_head = d / n_heads;
  Tensor y = x;
  for (std::size_t t = 0; t < T; ++t) {
    const double position = static_cast<double>(position_offset + t);
    for (std::size_t h = 0; h < n_heads; ++h) {
      double* head = &y.data[t * d + h * d_head];  // row t's slice of head h
      // Interleaved pairing: (2i, 2i+1) are neighbours, not (i, i + d_head/2).
      for (std::size_t i = 0; i < d_head / 2; ++i) {
        const double theta =
            std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d_head));
        const double angle = position * theta;
        const double c = std::cos(angle), s = std::sin(angle);
        const double even = head[2 * i], odd = head[2 * i + 1];
        head[2 * i] = even * c - odd * s;
        head[2 * i + 1] = even * s + odd * c;
      }
    }
  }
  return y;
}

void softmax_last_axis(Tensor& x) {
  if (x.shape.empty() || x.shape.back() == 0 || x.data.size() != element_count(x.shape)) {
    throw Error(fmt::format("reference: softmax over the last axis of shape {}",
                            shape_text(x.shape)));
  }
  const std::size_t n = x.shape.back();
  for (std::size_t r = 0; r < x.data.size() / n; ++r) {
    double* row = &x.data[r * n];
    double max = row[0];
    for (std::size_t j = 1; j < n; ++j) max = std::max(max, row[j]);
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      row[j] = std::exp(row[j] - max);  // exp(-inf) = 0 exactly: masked keys get weight 0
      sum += row[j];
    }
    for (std::size_t j = 0; j < n; ++j) row[j] /= sum;
  }
}

// ---------------------------------------------------------------------------------------------
// The forwards.

namespace {

Result block_forward_from(const MiniGPTConfig& config, const WeightSource& weights,
                          std::size_t index, const Tensor& x, const Options& options) {
  if (index >= config.n_layers()) {
    throw InputError(fmt::format("reference: block index {} does not exist; rule: index < "
                                 "n_layers = {}",
                                 index, config.n_layers()));
  }
  if (x.shape.size() != 2 || x.data.size() != element_count(x.shape)) {
    throw InputError(fmt::format("reference: block input x has shape {} with {} values; rule: x "
                                 "is a (T, d_model) matrix",
                                 shape_text(x.shape), x.data.size()));
  }
  if (cols(x) != config.d_model()) {
    throw InputError(fmt::format("reference: block input x has {} columns; rule: columns = "
                                 "d_model = {}",
                                 cols(x), config.d_model()));
  }
  check_length(rows(x), options.position_offset, config.context_len(), "block input x");

  Result result;
  StepLog log(options.keep_steps ? &result.steps : nullptr);
  result.output = run_block(config, weights, index, x, options, log);
  return result;
}

Result forward_from(const MiniGPTConfig& config, const WeightSource& weights,
                    std::span<const TokenId> tokens, const Options& options) {
  const std::size_t T = tokens.size(), d = config.d_model(), V = config.vocab_size();
  check_length(T, options.position_offset, config.context_len(), "the token sequence");
  for (std::size_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || static_cast<std::size_t>(tokens[t]) >= V) {
      throw InputError(fmt::format("reference: token id {} at position {} is out of range; rule: "
                                   "0 <= id < vocab_size = {}",
                                   tokens[t], t, V));
    }
  }

  Result result;
  StepLog log(options.keep_steps ? &result.steps : nullptr);
  const Tensor E = read_weight(weights, "E", {V, d});  // (V, d), also the head (tied)

  // h0 = E[tokens]: row t is the embedding row of token t. (T,) -> (T, d)
  Tensor h = zeros({T, d});
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t id = static_cast<std::size_t>(tokens[t]);
    for (std::size_t j = 0; j < d; ++j) h.data[t * d + j] = E.data[id * d + j];
  }
  log.keep("embed", h);

  for (std::size_t i = 0; i < config.n_layers(); ++i) {  // (T, d) -> (T, d), L times
    h = run_block(config, weights, i, h, options, log);
  }

  const Tensor gamma = read_weight(weights, "ln_final.gamma", {d});
  const Tensor beta = config.norm() == NormKind::layer_norm ? read_weight(weights, "ln_final.beta", {d}) : Tensor{};
  const Tensor normed = layer_or_rms_norm(config, h, gamma, beta);
  log.keep("ln_final", normed);

  // Tied head: the same E as the embedding, used as Eᵀ (d, V). (T, d) -> (T, V)
  result.output = matmul(normed, transpose(E));
  log.keep("logits", result.output);
  return result;
}

}  // namespace

Result block_forward(const MiniGPTConfig& config, const ParameterRegistry& weights,
                     std::size_t index, const Tensor& x, const Options& options) {
  return block_forward_from(config, WeightSource{.registry = &weights}, index, x, options);
}

Result block_forward(const MiniGPTConfig& config, const Weights& weights, std::size_t index,
                     const Tensor& x, const Options& options) {
  return block_forward_from(config, WeightSource{.doubles = &weights}, index, x, options);
}

Result forward(const MiniGPTConfig& config, const ParameterRegistry& weights,
               std::span<const TokenId> tokens, const Options& options) {
  return forward_from(config, WeightSource{.registry = &weights}, tokens, options);
}

Result forward(const MiniGPTConfig& config, const Weights& weights,
               std::span<const TokenId> tokens, const Options& options) {
  return forward_from(config, WeightSource{.doubles = &weights}, tokens, options);
}

Weights to_double(const ParameterRegistry& registry) {
  Weights weights;
  for (const Parameter& p : registry) {
    Tensor w{p.shape(), std::vector<double>(p.numel())};
    for (std::size_t i = 0; i < p.numel(); ++i) w.data[i] = static_cast<double>(p.data()[i]);
    weights.emplace(p.name, std::move(w));
  }
  return weights;
}

const Tensor& step(const Result& result, std::string_view name) {
  for (const Step& s : result.steps) {
    if (s.name == name) return s.value;
  }
  throw Error(fmt::format("reference: no recorded step named '{}' ({} steps recorded; was "
                          "Options::keep_steps set?)",
                          name, result.steps.size()));
}

}  // namespace minimodel::reference
