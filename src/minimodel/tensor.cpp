#include "minimodel/tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace minimodel {

std::string format_shape(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

void ensure_shape(Matrix& m, std::size_t rows, std::size_t cols) {
  if (m.shape(0) != rows || m.shape(1) != cols) {
    m.resize({rows, cols});
  }
}

}  // namespace minimodel
