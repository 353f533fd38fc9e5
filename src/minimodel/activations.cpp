#include "minimodel/activations.hpp"

#include <cmath>
#include <fmt/format.h>

#include "minimodel/contract.hpp"
#include "minimodel/layer_norm.hpp"

namespace minimodel {

BlockActivations& ActivationRecord::block(std::size_t i) {
  if (blocks.size() <= i) blocks.resize(i + 1);
  return blocks[i];
}

void norm_statistics(const LayerNorm& norm, const Matrix& x, NormStatistics& out) {
  const std::size_t T = x.shape(0), d = x.shape(1);
  MINIMODEL_EXPECT(norm.gamma().numel() == d, "{} statistics: x (T, d) = ({}, {}), gamma (d,) = ({})", norm.name(), T, d, norm.gamma().numel());
  const bool rms = norm.kind() == NormKind::rms_norm;
  const float d_f = static_cast<float>(d);
  out.mean.resize(T);
  out.rstd.resize(T);
  for (std::size_t t = 0; t < T; ++t) {
    const float* x_t = x.data() + t * d;
    float mean = 0.0f;
    if (!rms) {
      float sum = 0.0f;
      for (std::size_t j = 0; j < d; ++j) sum += x_t[j];
      mean = sum / d_f;
    }
    float squares = 0.0f;
    for (std::size_t j = 0; j < d; ++j) squares += (x_t[j] - mean) * (x_t[j] - mean);
    out.mean[t] = mean;
    out.rstd[t] = 1.0f / std::sqrt(squares / d_f + norm.eps());
  }
}

std::string first_missing(const BlockActivations& a, std::string_view block) {
  std::string missing;
  for_each_activation(a, [&](std::string_view name, const Matrix& m) {
    if (missing.empty() && m.size() == 0) missing = fmt::format("{}.{}", block, name);
  });
  if (missing.empty() && a.ln1_stats.rstd.empty()) missing = fmt::format("{}.ln1 statistics", block);
  if (missing.empty() && a.ln2_stats.rstd.empty()) missing = fmt::format("{}.ln2 statistics", block);
  return missing;
}

}  // namespace minimodel
