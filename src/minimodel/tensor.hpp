#pragma once
// The tensor types the model computes with. Activations are row-major and unbatched:
// a (T, d_model) matrix holds one row per position.
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

namespace minimodel {

using Matrix = xt::xtensor<float, 2>;  // (rows, cols), row-major
using Shape = std::vector<std::size_t>;

// "(8, 64)" — the notation every trace and table uses.
std::string format_shape(const Shape& shape);
// "[3, 17]": the multi-index of row-major flat index `flat` in `shape`.
std::string format_index(std::size_t flat, const Shape& shape);

// Resizes `m` to (rows, cols) only when the shape differs, so reused buffers keep their memory.
void ensure_shape(Matrix& m, std::size_t rows, std::size_t cols);

// Whether every one of values[0..n) is finite (no NaN, no infinity). Reads them all, shared among
// the worker threads when n is large (a GPT-2-sized forward's logits).
bool all_finite(const float* values, std::size_t n);

}  // namespace minimodel
