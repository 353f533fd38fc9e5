#pragma once
// The kernels of pieces_simd.hpp as templates on an xsimd architecture. Included only by the
// pieces_simd_<isa>.cpp files, each compiled with its instruction set's flags. Solution only:
// a handout leaves this file out (pieces_simd.hpp says why).
#include <algorithm>
#include <cmath>
#include <cstddef>

#include <xsimd/xsimd.hpp>

namespace minimodel::kernels::detail {

// Applies `f` (batch -> batch) to n floats in place. The last n mod width values go through
// the same batch code on a zero-padded copy, so every value gets the same function whatever
// its position (no scalar tail that could round differently).
template <class Arch, class F>
inline void map_inplace(float* values, std::size_t n, F f) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t width = batch::size;
  std::size_t i = 0;
  for (; i + width <= n; i += width) f(batch::load_unaligned(values + i)).store_unaligned(values + i);
  if (i < n) {
    alignas(64) float tail[width] = {};
    std::copy(values + i, values + n, tail);
    f(batch::load_aligned(tail)).store_aligned(tail);
    std::copy(tail, tail + (n - i), values + i);
  }
}

template <class Arch>
void gelu_exact(float* values, std::size_t n) {
  using batch = xsimd::batch<float, Arch>;
  // 0.5·x·erfc(−x/√2), in the order gelu_exact writes it: (0.5·x)·erfc(−x·(1/√2)).
  const batch half(0.5f), minus_inv_sqrt2(-0.70710678118654752f);
  map_inplace<Arch>(values, n, [&](batch x) { return half * x * xsimd::erfc(x * minus_inv_sqrt2); });
}

// Σ f(values[j]) for j in [0, n), in float: `width` partial sums, then xsimd's horizontal add,
// then the rest one by one.
template <class Arch, class F>
inline float sum_of(const float* values, std::size_t n, F f) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t width = batch::size;
  batch partial(0.0f);
  std::size_t j = 0;
  for (; j + width <= n; j += width) partial += f(batch::load_unaligned(values + j));
  float sum = xsimd::hadd(partial);
  for (; j < n; ++j) sum += f(values[j]);
  return sum;
}

template <class Arch>
void layer_norm(const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma, const float* beta,
                float eps, bool rms, float* mean_out, float* rstd_out) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t width = batch::size;
  for (std::size_t t = 0; t < rows; ++t) {
    const float* x_t = x + t * d;
    float* y_t = y + t * d;
    // The steps of LayerNorm::forward (layer_norm.cpp), with each sum split over the lanes.
    const float mean = rms ? 0.0f : sum_of<Arch>(x_t, d, [](auto v) { return v; }) / static_cast<float>(d);
    const float squares = sum_of<Arch>(x_t, d, [mean](auto v) { return (v - mean) * (v - mean); });
    const float inv_std = 1.0f / std::sqrt(squares / static_cast<float>(d) + eps);
    // The statistics y[t] is computed with below: the backward reads these, not a recomputation.
    mean_out[t] = mean;
    rstd_out[t] = inv_std;
    const batch mean_b(mean), inv_std_b(inv_std);
    std::size_t j = 0;
    for (; j + width <= d; j += width) {
      batch v = batch::load_unaligned(gamma + j) * ((batch::load_unaligned(x_t + j) - mean_b) * inv_std_b);
      if (beta != nullptr) v += batch::load_unaligned(beta + j);
      v.store_unaligned(y_t + j);
    }
    for (; j < d; ++j) {
      y_t[j] = gamma[j] * ((x_t[j] - mean) * inv_std);
      if (beta != nullptr) y_t[j] += beta[j];
    }
  }
}

}  // namespace minimodel::kernels::detail

// The entry points of one architecture, plain functions named after it (pieces_simd.cpp calls
// them): gelu_exact_<NAME> and layer_norm_<NAME>.
#define MINIMODEL_PIECES_SIMD_DEFINE(NAME, ARCH)                                                  \
  namespace minimodel::kernels::detail {                                                         \
  void gelu_exact_##NAME(float* values, std::size_t n) { gelu_exact<ARCH>(values, n); }          \
  void layer_norm_##NAME(const float* x, float* y, std::size_t rows, std::size_t d,              \
                         const float* gamma, const float* beta, float eps, bool rms, float* mean, \
                         float* rstd) {                                                          \
    layer_norm<ARCH>(x, y, rows, d, gamma, beta, eps, rms, mean, rstd);                          \
  }                                                                                              \
  }
