// The backward of gelu.cpp: GELU's derivative, both forms.
#include "minimodel/backward/backward.hpp"

#include <cmath>

namespace minimodel {

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

}  // namespace minimodel
