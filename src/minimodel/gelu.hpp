#pragma once
// GELU, the FFN's activation. The model uses the EXACT form, x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
// The tanh form is the approximation GPT-2 shipped; it stays as a named option so that lab00
// can print the two side by side (they differ by less than 5e-4 everywhere).
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"

namespace minimodel {

namespace detail {

// e^x in float, written out so that a loop of them vectorises (a call to expf per element
// does not, and the FFN evaluates T·d_ff of them). x = n·ln2 + r with |r| <= ln2/2, e^r by
// its Taylor series to r⁷ (truncation error < 6e-9 relative), times 2^n built from its bits.
// Within 1.3 ulp (measured) for x in [-87, 88]; exactly 0 below −87 (where e^x < 1.7e-38 would
// be subnormal) and so for −∞, which the softmax relies on; x above 88 is clamped; a NaN gives
// NaN (a softmax row that is all −∞ must not come out as uniform weights).
inline float exp_vectorizable(float x) {
  const float argument = x;
  // Clamped so that the float-to-int conversion below is always defined (a NaN becomes -87
  // here, and is given back at the end).
  const bool underflow = x < -87.0f;
  x = x > -87.0f ? x : -87.0f;
  x = x < 88.0f ? x : 88.0f;
  constexpr float log2e = 1.44269504088896341f;
  constexpr float round_magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  const float n = (x * log2e + round_magic) - round_magic;
  // Cody–Waite: ln 2 split in a part with few significant bits and the rest, so that n·ln2_hi
  // is exact and the reduction loses nothing.
  constexpr float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
  const float r = (x - n * ln2_hi) - n * ln2_lo;
  // The polynomial by Estrin's scheme: pairs (c_i + c_{i+1}·r) joined by r², then r⁴. Its
  // longest chain of dependent operations is half as long as Horner's, and this loop is bound
  // by that chain, not by the number of operations (GELU over 4,096 values: 24 µs with Horner's
  // scheme, 16 µs with this one, here).
  const float r2 = r * r, r4 = r2 * r2;
  const float p = ((1.0f + r) + r2 * (0.5f + r * (1.0f / 6))) +
                  r4 * ((1.0f / 24 + r * (1.0f / 120)) + r2 * (1.0f / 720 + r * (1.0f / 5040)));
  const std::int32_t exponent = (static_cast<std::int32_t>(n) + 127) << 23;
  const float result = underflow ? 0.0f : p * std::bit_cast<float>(exponent);
  return argument == argument ? result : argument;  // false only for NaN
}

// erfc(a) for a >= 0, by the Chebyshev-fitted formula of Numerical Recipes (Press et al.,
// §6.2, "erfcc"): fractional error below 1.2e-7 everywhere, so it keeps its relative
// accuracy far into the tail where 1 − erf would cancel.
inline float erfc_nonnegative(float a) {
  const float t = 1.0f / (1.0f + 0.5f * a);
  // The degree-9 polynomial in t, by Estrin's scheme as in exp_vectorizable.
  const float t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
  const float poly = (((-1.26551223f + t * 1.00002368f) + t2 * (0.37409196f + t * 0.09678418f)) +
                      t4 * ((-0.18628806f + t * 0.27886807f) + t2 * (-1.13520398f + t * 1.48851587f))) +
                     t8 * (-0.82215223f + t * 0.17087277f);
  return t * exp_vectorizable(-a * a + poly);
}

}  // namespace detail

// x·Φ(x) with Φ(x) = 0.5·erfc(−x/√2). Hand-written instead of calling std::erf: a loop of these
// vectorises, which makes the FFN's activation several times faster, at float accuracy
// (tests/test_layers.cpp measures the error against double std::erfc: a few ulp).
inline float gelu_exact(float x) {
  // STARTER-BEGIN GELU, exact form | theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form
  constexpr float inv_sqrt2 = 0.70710678118654752f;
  const float e = detail::erfc_nonnegative(std::fabs(x) * inv_sqrt2);  // erfc(|x|/√2)
  // erfc(−x/√2) is e for x <= 0 and 2 − e for x > 0. Written as offset + sign·e, choosing
  // between constants only, so the compiler can vectorise without a branch.
  const bool positive = x > 0.0f;
  const float offset = positive ? 2.0f : 0.0f, sign = positive ? -1.0f : 1.0f;
  return 0.5f * x * (offset + sign * e);
  // STARTER-END
}

inline float gelu_tanh(float x) {
  // STARTER-BEGIN GELU, tanh form | theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form
  constexpr float sqrt_2_over_pi = 0.79788456080286536f;
  return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
  // STARTER-END
}

inline float gelu(float x, GeluForm form) {
  return form == GeluForm::exact ? gelu_exact(x) : gelu_tanh(x);
}

// Applies GELU in place to n values.
void gelu_inplace(float* values, std::size_t n, GeluForm form);

}  // namespace minimodel
