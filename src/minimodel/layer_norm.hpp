#pragma once
// LayerNorm over the last axis: y = gamma * (x - mean) / sqrt(var + eps) + beta, with the
// biased (population) variance and eps inside the square root. gamma starts at 1, beta at 0.
//
// With NormKind::rms_norm the same module is RMSNorm, the variant later models use:
// y = gamma * x / sqrt(mean(x²) + eps) — no mean subtracted, no beta.
#include <string>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/trace.hpp"

namespace minimodel {

// A norm's per-row statistics, written by its forward on the way to y: x̂ = (x − mean)·rstd.
// RMSNorm's mean is 0 (nothing is subtracted). The backward reads them as the forward left them.
struct NormStatistics {
  std::vector<float> mean;  // (T,)
  std::vector<float> rstd;  // (T,): 1/√(σ² + eps), σ² the mean squared deviation from mean
};

class LayerNorm {
 public:
  // Registers `<name>.gamma` (d,) and, for LayerNorm, `<name>.beta` (d,).
  LayerNorm(ParameterRegistry& registry, std::string name, std::size_t d, double eps,
            NormKind kind = NormKind::layer_norm);

  // (T, d) -> (T, d), and each row's mean and 1/std into stats (T,). Resizes y and stats when
  // needed; y must not alias x. Reports `<name>` to the active tracer (trace.hpp) once y holds
  // the result.
  void forward(const Matrix& x, Matrix& y, NormStatistics& stats) const;

  const std::string& name() const { return name_; }
  NormKind kind() const { return kind_; }
  const Parameter& gamma() const { return gamma_; }
  const Parameter* beta() const { return beta_; }  // nullptr for RMSNorm
  float eps() const { return eps_; }

 private:
  std::string name_;
  NormKind kind_;
  Parameter& gamma_;
  Parameter* beta_;
  float eps_;
  std::string formula_;  // for the trace, written once
};

}  // namespace minimodel
