#include "minimodel/layer_norm.hpp"

#include <cmath>
#include <fmt/format.h>

#include "minimodel/contract.hpp"
#include "minimodel/errors.hpp"
#ifndef MINIMODEL_SCALAR_PIECES
#include "minimodel/kernels/pieces_simd.hpp"  // the solution's only: a handout has no such file
#endif

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

void LayerNorm::forward(const Matrix& x, Matrix& y, NormStatistics& stats) const {
  const std::size_t T = x.shape(0), d = x.shape(1);  // x: (T, d)
  MINIMODEL_EXPECT(gamma_.numel() == d && (beta_ == nullptr || beta_->numel() == d),
                   "{}: x (T, d) = ({}, {}), gamma (d,) = ({}), beta (d,) = ({})",
                   name_, T, d, gamma_.numel(), beta_ != nullptr ? beta_->numel() : d);
  MINIMODEL_EXPECT(&x != &y, "{}: y must not alias x (T, d) = ({}, {})", name_, T, d);
  ensure_shape(y, T, d);
  stats.mean.resize(T);
  stats.rstd.resize(T);
  const bool rms = kind_ == NormKind::rms_norm;
#ifndef MINIMODEL_SCALAR_PIECES
  // The solution's build runs the piece's steps vectorised (kernels/pieces_simd.hpp), compared
  // with the piece by tests/test_simd_math.cpp; a student's build runs the piece below. The
  // kernel writes the rows' statistics into stats as the piece does: the backward reads the
  // numbers of the forward that ran.
  if (kernels::kernels_enabled() && x.data() != y.data()) {
    kernels::layer_norm(x.data(), y.data(), T, d, gamma_.data(), beta_ ? beta_->data() : nullptr, eps_, rms,
                        stats.mean.data(), stats.rstd.data());
    trace_op(name_, "", {x}, "", y, formula_);
    return;
  }
#endif
  // STARTER-BEGIN 1 · LayerNorm forward | labs/00-block-by-hand/README.md § Step 1 · LN1
  // | computes: every row t of x on its own: y[t] = γ ⊙ (x[t] − mean) / √(var + eps) + β, var
  // |           the mean of the squared deviations (divide by d, not d − 1). When rms is true
  // |           (RMSNorm): no mean subtracted, var is the mean of x[t]², and there is no β.
  // |           Keep each row's mean and 1/√(var + eps) in stats: the backward reads them.
  // | shapes:   x (T, d) -> y (T, d), y already sized; gamma_.data() and beta_->data() hold d
  // |           floats each (beta_ is nullptr for RMSNorm); eps_ is a float; stats.mean and
  // |           stats.rstd hold T floats each
  // | NumPy:    mu = x.mean(-1, keepdims=True); var = ((x - mu)**2).mean(-1, keepdims=True)
  // |           y = gamma * (x - mu) / np.sqrt(var + eps) + beta
  // | unlocks:  lab 00's LayerNorm properties (LayerNorm and RMSNorm rows); with pieces 6 and
  // |           7, lab 00's steps 1 · LN1 and 10 · LN2
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
    stats.mean[t] = mean;
    stats.rstd[t] = inv_std;
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
