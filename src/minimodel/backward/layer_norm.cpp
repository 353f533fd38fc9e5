// The backward of layer_norm.cpp: LayerNorm and RMSNorm. It reads the norm's input x and the
// per-row statistics (mean, 1/std) the forward kept (ActivationRecord; norm_statistics in
// activations.cpp computes them once), and the norm's gamma; it recomputes nothing.
#include "minimodel/backward/backward.hpp"

#include "minimodel/backward/detail.hpp"
#include "minimodel/layer_norm.hpp"

namespace minimodel {

using namespace backward_detail;

void norm_backward(const LayerNorm& norm, const Matrix& x, const NormStatistics& stats, const Matrix& dy, Matrix& dx,
                   xt::xarray<float>& dgamma, xt::xarray<float>* dbeta) {
  const std::size_t T = x.shape(0), d = x.shape(1);
  require_shape(dy, T, d, "norm output gradient dy");
  require_size(dgamma, d, norm.gamma().name);
  if (dbeta != nullptr) require_size(*dbeta, d, norm.name() + ".beta");
  if (stats.mean.size() != T || stats.rstd.size() != T) {
    throw Error(fmt::format("backward: {} statistics hold {} means and {} rstds for x (T, d) = ({}, {}); was the "
                            "forward run with an activation record?",
                            norm.name(), stats.mean.size(), stats.rstd.size(), T, d));
  }
  const bool rms = norm.kind() == NormKind::rms_norm;
  const float* gamma = norm.gamma().data();
  const float d_f = static_cast<float>(d);
  ensure_shape(dx, T, d);
  for (std::size_t t = 0; t < T; ++t) {
    const float* x_t = x.data() + t * d;
    const float* dy_t = dy.data() + t * d;
    float* dx_t = dx.data() + t * d;
    // The forward's statistics, as it kept them (norm_statistics, activations.cpp).
    const float mean = stats.mean[t], r = stats.rstd[t];
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

}  // namespace minimodel
