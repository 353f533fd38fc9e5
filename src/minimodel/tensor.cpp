#include "minimodel/tensor.hpp"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "minimodel/kernels/small_gemm.hpp"  // workers_for

namespace minimodel {

std::string format_shape(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

std::string format_index(std::size_t flat, const Shape& shape) {
  std::vector<std::size_t> index(shape.size());
  for (std::size_t axis = shape.size(); axis-- > 0;) {
    index[axis] = flat % shape[axis];
    flat /= shape[axis];
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

void ensure_shape(Matrix& m, std::size_t rows, std::size_t cols) {
  if (m.shape(0) != rows || m.shape(1) != cols) {
    m.resize({rows, cols});
  }
}

bool all_finite(const float* values, std::size_t n) {
  // No early exit: a loop that reads every value vectorises, and a forward's logits are finite.
  // Small ones stay out of OpenMP altogether: even a region that runs on one thread costs
  // about as much as the locked model's 512 logits.
  int finite = 1;
  const int workers = kernels::workers_for(n);
  if (workers == 1) {
    for (std::size_t i = 0; i < n; ++i) finite &= static_cast<int>(std::isfinite(values[i]));
    return finite != 0;
  }
#pragma omp parallel for num_threads(workers) schedule(static) reduction(& : finite)
  for (std::size_t i = 0; i < n; ++i) finite &= static_cast<int>(std::isfinite(values[i]));
  return finite != 0;
}

}  // namespace minimodel
