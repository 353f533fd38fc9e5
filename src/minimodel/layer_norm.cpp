#include "minimodel/layer_norm.hpp"

#include <cmath>
#include <fmt/format.h>

#include "minimodel/errors.hpp"

namespace minimodel {

LayerNorm::LayerNorm(ParameterRegistry& registry, std::string name, std::size_t d, double eps,
                     NormKind kind)
    : name_(std::move(name)),
      kind_(kind),
      gamma_(registry.add(name_ + ".gamma", {d}, InitRule::ones())),
      beta_(kind == NormKind::layer_norm ? &registry.add(name_ + ".beta", {d}, InitRule::zeros())
                                         : nullptr),
      eps_(static_cast<float>(eps)),
      formula_(kind == NormKind::rms_norm
                   ? fmt::format("γ·x/√(mean(x²)+{:g}) over the last axis (RMSNorm)", eps_)
                   : fmt::format("γ·(x−μ)/√(σ²+{:g})+β over the last axis", eps_)) {}

void LayerNorm::forward(const Matrix& x, Matrix& y) const {
  const std::size_t T = x.shape(0), d = x.shape(1);  // x: (T, d)
  ensure_shape(y, T, d);
  const bool rms = kind_ == NormKind::rms_norm;
  // STARTER-BEGIN LayerNorm forward | labs/00-block-by-hand/README.md § Step 1 · LN1
  const float* gamma = gamma_.data();
  for (std::size_t t = 0; t < T; ++t) {
    const float* x_t = x.data() + t * d;
    float* y_t = y.data() + t * d;
    // Two passes (mean, then the mean of squared deviations): a one-pass E[x²] - E[x]²
    // cancels catastrophically when the values are large and nearly equal.
    float mean = 0.0f;
    if (!rms) {
      float sum = 0.0f;
      for (std::size_t j = 0; j < d; ++j) sum += x_t[j];
      mean = sum / static_cast<float>(d);
    }
    float squares = 0.0f;
    for (std::size_t j = 0; j < d; ++j) squares += (x_t[j] - mean) * (x_t[j] - mean);
    // LayerNorm: the biased variance (divide by d, not d - 1). RMSNorm: the mean square.
    const float inv_std = 1.0f / std::sqrt(squares / static_cast<float>(d) + eps_);
    for (std::size_t j = 0; j < d; ++j) y_t[j] = gamma[j] * ((x_t[j] - mean) * inv_std);
    if (beta_ != nullptr) {
      const float* beta = beta_->data();
      for (std::size_t j = 0; j < d; ++j) y_t[j] += beta[j];
    }
  }
  // STARTER-END
  trace_op(name_, "", {x}, "", y, formula_);
}

}  // namespace minimodel
