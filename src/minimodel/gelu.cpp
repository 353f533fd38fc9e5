#include "minimodel/gelu.hpp"

#include <cmath>

#include "minimodel/errors.hpp"  // NotImplemented, thrown by the starter copy of this file
#include "minimodel/vector_math.hpp"

namespace minimodel {

// x·Φ(x) with Φ(x) = 0.5·erfc(−x/√2). Hand-written instead of calling std::erf: a loop of these
// vectorises, which makes the FFN's activation several times faster, at float accuracy
// (tests/test_layers.cpp measures the error against double std::erfc: a few ulp).
float gelu_exact(float x) {
  // STARTER-BEGIN 2 · GELU, exact form | theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form
  // | computes: x·Φ(x) = 0.5·x·(1 + erf(x/√2)), Φ the standard normal CDF, for one float
  // | NumPy:    0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2)))
  // |           (std::erf is fine here; the solution's erfc is written to vectorise)
  // | unlocks:  lab 00's GELU table (the exact column); with pieces 4 to 7, step 12 · GELU
  constexpr float inv_sqrt2 = 0.70710678118654752f;
  const float e = detail::erfc_nonnegative(std::fabs(x) * inv_sqrt2);  // erfc(|x|/√2)
  // erfc(−x/√2) is e for x <= 0 and 2 − e for x > 0. Written as offset + sign·e, choosing
  // between constants only, so the compiler can vectorise without a branch.
  const bool positive = x > 0.0f;
  const float offset = positive ? 2.0f : 0.0f, sign = positive ? -1.0f : 1.0f;
  return 0.5f * x * (offset + sign * e);
  // STARTER-END
}

float gelu_tanh(float x) {
  // STARTER-BEGIN 3 · GELU, tanh form | theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form
  // | computes: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), for one float
  // | NumPy:    0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
  // | unlocks:  lab 00's GELU table (the tanh column) and the exact − tanh gap
  constexpr float sqrt_2_over_pi = 0.79788456080286536f;
  return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
  // STARTER-END
}

float gelu(float x, GeluForm form) {
  return form == GeluForm::exact ? gelu_exact(x) : gelu_tanh(x);
}

// flatten: the two functions above are inlined into these loops whatever their size, so that
// the exact form's loop vectorises (it did when they were inline functions of a header; as
// functions of this file, the student's file, GCC's inliner alone leaves them as calls).
[[gnu::flatten]] void gelu_inplace(float* values, std::size_t n, GeluForm form) {
  // The branch on the form is hoisted out of the loop.
  if (form == GeluForm::exact) {
    for (std::size_t i = 0; i < n; ++i) values[i] = gelu_exact(values[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) values[i] = gelu_tanh(values[i]);
  }
}

}  // namespace minimodel
