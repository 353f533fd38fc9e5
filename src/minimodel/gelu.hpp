#pragma once
// GELU, the FFN's activation. The model uses the EXACT form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
// The tanh form is the approximation GPT-2 shipped; it stays as a named option so that lab00
// can print the two side by side (they differ by less than 5e-4 everywhere). Defined in
// gelu.cpp, beside the loop that applies them (so that loop can inline and vectorise them).
#include <cstddef>

#include "minimodel/config.hpp"

namespace minimodel {

// x·Φ(x), Φ the standard normal CDF: elementwise, any float.
float gelu_exact(float x);
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
float gelu_tanh(float x);
float gelu(float x, GeluForm form);

// Applies GELU in place to n values.
void gelu_inplace(float* values, std::size_t n, GeluForm form);

}  // namespace minimodel
