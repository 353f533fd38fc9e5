#pragma once
// GELU, the FFN's activation. The model uses the EXACT form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
// The tanh form is the approximation GPT-2 shipped; it stays as a named option so that lab00
// can print the two side by side (they differ by less than 1e-3 everywhere).
#include <cmath>
#include <cstddef>

#include "minimodel/config.hpp"

namespace minimodel {

inline float gelu_exact(float x) {
  constexpr float inv_sqrt2 = 0.70710678118654752f;
  return 0.5f * x * (1.0f + std::erf(x * inv_sqrt2));
}

inline float gelu_tanh(float x) {
  constexpr float sqrt_2_over_pi = 0.79788456080286536f;
  return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
}

inline float gelu(float x, GeluForm form) {
  return form == GeluForm::exact ? gelu_exact(x) : gelu_tanh(x);
}

// Applies GELU in place to n values.
void gelu_inplace(float* values, std::size_t n, GeluForm form);

}  // namespace minimodel
