#pragma once
// LayerNorm over the last axis: y = gamma * (x - mean) / sqrt(var + eps) + beta, with the
// biased (population) variance and eps inside the square root. gamma starts at 1, beta at 0.
#include <string>

#include "minimodel/registry.hpp"
#include "minimodel/trace.hpp"

namespace minimodel {

class LayerNorm {
 public:
  // Registers `<name>.gamma` and `<name>.beta`, each of shape (d,).
  LayerNorm(ParameterRegistry& registry, std::string name, std::size_t d, double eps);

  // (T, d) -> (T, d). Resizes y when needed; y must not alias x.
  void forward(const Matrix& x, Matrix& y, Tracer* tracer = nullptr) const;

  const std::string& name() const { return name_; }
  const Parameter& gamma() const { return gamma_; }
  const Parameter& beta() const { return beta_; }

 private:
  std::string name_;
  Parameter& gamma_;
  Parameter& beta_;
  float eps_;
};

}  // namespace minimodel
