#pragma once
// Helpers the backward's files share (not part of the library's interface).
#include <cstddef>
#include <fmt/format.h>
#include <string_view>

#include <xtensor/xarray.hpp>

#include "minimodel/errors.hpp"
#include "minimodel/matmul.hpp"
#include "minimodel/tensor.hpp"

namespace minimodel::backward_detail {

inline MutableMatrixView view_of(xt::xarray<float>& g) { return {g.data(), g.shape(0), g.shape(1), g.shape(1)}; }

inline void require_shape(const Matrix& m, std::size_t rows, std::size_t cols, std::string_view what) {
  if (m.shape(0) != rows || m.shape(1) != cols) {
    throw Error(fmt::format("backward: {} is ({}, {}), expected ({}, {})", what, m.shape(0), m.shape(1), rows, cols));
  }
}

inline void require_size(const xt::xarray<float>& g, std::size_t n, std::string_view what) {
  if (g.size() != n) {
    throw Error(fmt::format("backward: gradient of {} holds {} values, expected {}", what, g.size(), n));
  }
}

// a += b, elementwise: where a residual connection's two paths meet again going backward.
inline void add_into(Matrix& a, const Matrix& b) {
  float* pa = a.data();
  const float* pb = b.data();
  for (std::size_t i = 0; i < a.size(); ++i) pa[i] += pb[i];
}

}  // namespace minimodel::backward_detail
