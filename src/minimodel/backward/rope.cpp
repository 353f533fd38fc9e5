// The backward of rope.cpp: the rotation by minus the angle.
#include "minimodel/backward/backward.hpp"

#include <fmt/format.h>

#include "minimodel/errors.hpp"
#include "minimodel/rope.hpp"

namespace minimodel {

void rope_backward(Matrix& dx, std::size_t n_heads, const RotaryTable& table, std::size_t position_offset) {
  const std::size_t T = dx.shape(0), d_model = dx.shape(1), d_head = table.d_head();
  if (d_model != n_heads * d_head || position_offset + T > table.max_positions()) {
    throw Error(fmt::format("rope_backward: ({}, {}) at offset {} does not fit {} heads of {} and "
                            "{} positions",
                            T, d_model, position_offset, n_heads, d_head, table.max_positions()));
  }
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t position = position_offset + t;
    for (std::size_t h = 0; h < n_heads; ++h) {
      float* head = dx.data() + t * d_model + h * d_head;
      for (std::size_t i = 0; i < d_head / 2; ++i) {
        // Forward: [e'; o'] = [[c, −s], [s, c]]·[e; o]. Backward multiplies by the transpose,
        // [[c, s], [−s, c]]: the same rotation by −angle.
        const float c = table.cos(position, i), s = table.sin(position, i);
        const float d_even = head[2 * i], d_odd = head[2 * i + 1];
        head[2 * i] = d_even * c + d_odd * s;
        head[2 * i + 1] = -d_even * s + d_odd * c;
      }
    }
  }
}

}  // namespace minimodel
