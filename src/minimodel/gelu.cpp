#include "minimodel/gelu.hpp"

#include <cmath>

#include "minimodel/errors.hpp"  // NotImplemented, thrown by the starter copy of this file

namespace minimodel {

// x·Φ(x) with Φ(x) = 0.5·erfc(−x/√2): the definition. The forward applies it to whole rows
// through gelu_inplace (gelu_rows.cpp), which in the solution's build runs a vectorised copy of
// this formula (kernels/pieces_simd.hpp, compared with this function by tests/test_simd_math.cpp)
// and in a student's build calls this function itself.
float gelu_exact(float x) {
  // STARTER-BEGIN 2 · GELU, exact form | theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form
  // | computes: x·Φ(x) = 0.5·x·(1 + erf(x/√2)), Φ the standard normal CDF, for one float
  // | NumPy:    0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2)))
  // |           (std::erf from <cmath> is fine here)
  // | unlocks:  lab 00's GELU table (the exact column); with pieces 4 to 7, step 12 · GELU
  constexpr float inv_sqrt2 = 0.70710678118654752f;
  // 1 + erf(x/√2) written as erfc(−x/√2): the same number, without the cancellation of 1 + erf
  // for x far below 0, where erf is close to −1.
  return 0.5f * x * std::erfc(-x * inv_sqrt2);
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

}  // namespace minimodel
