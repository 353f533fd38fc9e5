#pragma once
// The kernels of simd_math.hpp as templates on an xsimd architecture. Included only by the
// simd_math_<isa>.cpp files, each of which is compiled with its instruction set's flags and
// instantiates them for that architecture alone.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include <xsimd/xsimd.hpp>

namespace minimodel::kernels::detail {

// e^(x − shift) in place, and the sum of the results: partial sums per lane, then xsimd's
// horizontal add. The tail is padded with −∞, whose exponential adds exactly 0.
template <class Arch>
float exp_shifted(float* values, std::size_t n, float shift) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t width = batch::size;
  const batch s(shift);
  batch partial(0.0f);
  std::size_t i = 0;
  for (; i + width <= n; i += width) {
    const batch e = xsimd::exp(batch::load_unaligned(values + i) - s);
    e.store_unaligned(values + i);
    partial += e;
  }
  if (i < n) {
    alignas(64) float tail[width];
    std::fill(tail, tail + width, -std::numeric_limits<float>::infinity());
    std::copy(values + i, values + n, tail);
    const batch e = xsimd::exp(batch::load_aligned(tail) - s);
    e.store_aligned(tail);
    partial += e;
    std::copy(tail, tail + (n - i), values + i);
  }
  return xsimd::hadd(partial);
}

// The largest of n >= 1 values (exact: a maximum does not round).
template <class Arch>
float max_of(const float* values, std::size_t n) {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t width = batch::size;
  float max = values[0];
  std::size_t i = 0;
  if (n >= width) {
    batch m = batch::load_unaligned(values);
    for (i = width; i + width <= n; i += width) m = xsimd::max(m, batch::load_unaligned(values + i));
    alignas(64) float lanes[width];
    m.store_aligned(lanes);
    for (const float lane : lanes) max = std::max(max, lane);
  }
  for (; i < n; ++i) max = std::max(max, values[i]);
  return max;
}

}  // namespace minimodel::kernels::detail

// The entry points of one architecture, plain functions named after it (simd_math.cpp calls
// them): exp_shifted_<NAME> and max_of_<NAME>.
#define MINIMODEL_SIMD_MATH_DEFINE(NAME, ARCH)                                                 \
  namespace minimodel::kernels::detail {                                                      \
  float exp_shifted_##NAME(float* values, std::size_t n, float shift) {                       \
    return exp_shifted<ARCH>(values, n, shift);                                               \
  }                                                                                           \
  float max_of_##NAME(const float* values, std::size_t n) { return max_of<ARCH>(values, n); } \
  }
