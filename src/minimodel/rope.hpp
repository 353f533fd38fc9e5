#pragma once
// Rotary position embedding (RoPE), applied to q and k of each head — not to v, not to the
// residual stream.
//
// Pairing convention: INTERLEAVED. Within a head, dimensions (2i, 2i+1) form pair i and are
// rotated by angle = position · theta_i, theta_i = base^(-2i/d_head). (Some libraries pair
// i with i + d_head/2 instead, the "half-split" layout; the two are not interchangeable.)
// At position 0 every angle is 0 and RoPE is the identity, so checks use positions >= 1.
#include <cstddef>
#include <span>
#include <vector>

#include "minimodel/tensor.hpp"

namespace minimodel {

// cos and sin of every (position, pair) angle, computed once in double and stored as float.
class RotaryTable {
 public:
  RotaryTable(std::size_t d_head, std::size_t max_positions, double base);

  std::size_t d_head() const { return d_head_; }
  std::size_t max_positions() const { return max_positions_; }
  float cos(std::size_t position, std::size_t pair) const { return cos_[position * (d_head_ / 2) + pair]; }
  float sin(std::size_t position, std::size_t pair) const { return sin_[position * (d_head_ / 2) + pair]; }

 private:
  std::size_t d_head_, max_positions_;
  std::vector<float> cos_, sin_;  // (max_positions, d_head / 2)
};

// Rotates, in place, every head of x (T, n_heads·d_head); row t is at position offset + t.
// Throws Error when offset + T exceeds the table.
void apply_rope(Matrix& x, std::size_t n_heads, const RotaryTable& table, std::size_t position_offset);
// The same on x read as rows of d_model = n_heads·d_head floats, row-major (for buffers that
// are not a Matrix of their own: the attention's q and k in lent memory, attention.hpp).
void apply_rope(std::span<float> x, std::size_t d_model, std::size_t n_heads, const RotaryTable& table,
                std::size_t position_offset);

}  // namespace minimodel
