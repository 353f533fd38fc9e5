#include "minimodel/backward/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>

#include "minimodel/activations.hpp"
#include "minimodel/backward/backward.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/random.hpp"

namespace minimodel {

namespace {

// max_k |a_k − b_k| / max_k |b_k|; 0 when both are exactly zero, +inf when only b is.
double normwise_error(double max_diff, double scale) {
  if (scale == 0.0) return max_diff == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return max_diff / scale;
}

// Which entries of a tensor of n get a finite difference: all of them, or the largest
// gradient (so the normaliser is always among them) and max_samples − 1 others, uniformly
// without replacement, from a fixed seed.
std::vector<std::size_t> sample_entries(const std::vector<double>& gradient, std::size_t max_samples,
                                        std::uint64_t seed) {
  const std::size_t n = gradient.size();
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  if (max_samples == 0 || max_samples >= n) return all;
  const std::size_t largest = static_cast<std::size_t>(
      std::max_element(gradient.begin(), gradient.end(),
                       [](double a, double b) { return std::abs(a) < std::abs(b); }) - gradient.begin());
  std::swap(all[0], all[largest]);
  SplitMix64 rng(seed);
  for (std::size_t k = 1; k < max_samples; ++k) {  // partial Fisher–Yates over all[1..n)
    const std::size_t pick = k + static_cast<std::size_t>(rng.next() % (n - k));
    std::swap(all[k], all[pick]);
  }
  all.resize(max_samples);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

double GradientCheckResult::worst_fd_error() const {
  double worst = 0.0;
  for (const auto& t : tensors) {
    if (!(t.fd_error <= worst)) worst = t.fd_error;  // NaN sticks
  }
  return worst;
}

double GradientCheckResult::worst_fp32_error() const {
  double worst = d_embeddings_fp32_error;
  for (const auto& t : tensors) {
    if (!(t.fp32_error <= worst)) worst = t.fp32_error;
  }
  return worst;
}

bool GradientCheckResult::ok(double fd_tolerance, double fp32_tolerance) const {
  if (tensors.empty()) return false;
  const bool fd_ok = worst_fd_error() <= fd_tolerance;       // NaN compares false
  const bool fp32_ok = worst_fp32_error() <= fp32_tolerance;
  return fd_ok && fp32_ok;
}

Matrix upstream_gradient(std::size_t T, std::size_t V, std::uint64_t seed) {
  SplitMix64 rng(seed);
  Matrix G({T, V});
  // k/2^23 − 1 with k < 2^24: exactly a float, and exactly the same double.
  for (float& g : G) g = static_cast<float>(static_cast<double>(rng.next() >> 40) * 0x1p-23 - 1.0);
  return G;
}

reference::Tensor to_double(const Matrix& m) {
  reference::Tensor t{{m.shape(0), m.shape(1)}, std::vector<double>(m.size())};
  for (std::size_t i = 0; i < m.size(); ++i) t.data[i] = static_cast<double>(m.data()[i]);
  return t;
}

double scalar_objective(const MiniGPTConfig& config, const reference::Weights& weights,
                        std::span<const TokenId> tokens, const reference::Tensor& G,
                        std::size_t position_offset) {
  const reference::Result r = reference::forward(config, weights, tokens, {.position_offset = position_offset});
  if (r.output.data.size() != G.data.size()) throw Error("scalar_objective: G must be (T, vocab_size)");
  double L = 0.0;
  for (std::size_t i = 0; i < G.data.size(); ++i) L += G.data[i] * r.output.data[i];
  return L;
}

std::vector<TensorGradientCheck> finite_difference_errors(
    const MiniGPTConfig& config, const reference::Weights& weights, std::span<const TokenId> tokens,
    const reference::Tensor& G, const reference::Weights& claimed, const GradientCheckOptions& options) {
  reference::Weights probe = weights;  // one entry at a time is moved and put back
  std::vector<TensorGradientCheck> out;
  std::uint64_t tensor_seed = options.seed;
  for (const auto& [name, w] : weights) {
    const auto it = claimed.find(name);
    if (it == claimed.end()) throw Error(fmt::format("no claimed gradient for '{}'", name));
    const std::vector<double>& analytic = it->second.data;
    if (analytic.size() != w.data.size()) {
      throw Error(fmt::format("claimed gradient of '{}' has {} entries, the weight {}", name,
                              analytic.size(), w.data.size()));
    }
    TensorGradientCheck c;
    c.name = name;
    c.numel = w.data.size();
    for (double a : analytic) c.max_gradient = std::max(c.max_gradient, std::abs(a));
    const std::vector<std::size_t> entries = sample_entries(analytic, options.max_samples, mix64(++tensor_seed));
    c.sampled = entries.size();
    double max_diff = 0.0, max_fd = 0.0;
    std::vector<double>& value = probe.at(name).data;
    for (std::size_t k : entries) {
      const double saved = value[k];
      value[k] = saved + options.step;
      const double plus = scalar_objective(config, probe, tokens, G, options.position_offset);
      value[k] = saved - options.step;
      const double minus = scalar_objective(config, probe, tokens, G, options.position_offset);
      value[k] = saved;
      // The perturbation actually applied is (saved + h) − (saved − h), which differs from 2h
      // by the rounding of the two sums: divide by it, not by 2h.
      const double fd = (plus - minus) / ((saved + options.step) - (saved - options.step));
      const double diff = std::abs(fd - analytic[k]);
      if (!(diff <= max_diff)) max_diff = diff;  // NaN sticks
      max_fd = std::max(max_fd, std::abs(fd));
    }
    c.fd_error = normwise_error(max_diff, std::max(c.max_gradient, max_fd));
    out.push_back(std::move(c));
  }
  return out;
}

GradientCheckResult check_gradients(const MiniGPT& model, std::span<const TokenId> tokens,
                                    const GradientCheckOptions& options) {
  const MiniGPTConfig& config = model.config();
  const Matrix G = upstream_gradient(tokens.size(), config.vocab_size(), options.seed);
  const reference::Tensor G_double = to_double(G);
  const reference::Weights weights = reference::to_double(model.parameters());

  // Double: the reference backward, then finite differences against it.
  const reference::Gradients exact = reference::backward(config, weights, tokens, G_double,
                                                         {.position_offset = options.position_offset});
  std::vector<TensorGradientCheck> by_name;
  if (options.finite_differences) {
    by_name = finite_difference_errors(config, weights, tokens, G_double, exact.parameters, options);
  } else {
    for (const auto& [name, w] : weights) {
      TensorGradientCheck c;
      c.name = name;
      c.numel = w.data.size();
      for (double a : exact.parameters.at(name).data) c.max_gradient = std::max(c.max_gradient, std::abs(a));
      by_name.push_back(std::move(c));
    }
  }

  // fp32: the model's forward keeps its activations in a record, then its backward.
  ActivationRecord record;
  model.forward(tokens, {.position_offset = options.position_offset, .activations = &record});
  const Gradients fast = backward(model, record, tokens, G, {.position_offset = options.position_offset});

  GradientCheckResult result;
  for (const Parameter& p : model.parameters()) {  // registry order
    auto it = std::find_if(by_name.begin(), by_name.end(), [&](const auto& c) { return c.name == p.name; });
    if (it == by_name.end()) throw Error(fmt::format("no finite-difference result for '{}'", p.name));
    TensorGradientCheck c = *it;
    const xt::xarray<float>& g32 = fast.at(p.name);
    const std::vector<double>& g64 = exact.parameters.at(p.name).data;
    if (g32.size() != g64.size()) throw Error(fmt::format("gradient sizes of '{}' differ", p.name));
    double max_diff = 0.0;
    for (std::size_t i = 0; i < g64.size(); ++i) {
      const double diff = std::abs(static_cast<double>(g32.data()[i]) - g64[i]);
      if (!(diff <= max_diff)) max_diff = diff;
    }
    c.fp32_error = normwise_error(max_diff, c.max_gradient);
    result.tensors.push_back(std::move(c));
  }
  if (result.tensors.size() != by_name.size()) throw Error("the registry and the double weights differ");

  double max_diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < exact.d_embeddings.data.size(); ++i) {
    const double diff = std::abs(static_cast<double>(fast.d_embeddings.data()[i]) - exact.d_embeddings.data[i]);
    if (!(diff <= max_diff)) max_diff = diff;
    scale = std::max(scale, std::abs(exact.d_embeddings.data[i]));
  }
  result.d_embeddings_fp32_error = normwise_error(max_diff, scale);
  return result;
}

void randomize_constants(MiniGPT& model, std::uint64_t seed) {
  for (Parameter& p : model.parameters()) {
    if (p.init.kind == InitRule::Kind::normal) continue;
    SplitMix64 rng(stream_seed(seed, p.name));
    const bool gain = p.init.kind == InitRule::Kind::ones;
    for (std::size_t i = 0; i < p.numel(); ++i) {
      const double u = 2.0 * rng.uniform() - 1.0;  // [−1, 1)
      p.data()[i] = static_cast<float>(gain ? 1.0 + 0.2 * u : 0.2 * u);
    }
  }
}

}  // namespace minimodel
