#include "minimodel/flops.hpp"

namespace minimodel {

ForwardFlops forward_flops(const MiniGPTConfig& c, std::size_t T) {
  const double t = static_cast<double>(T), d = static_cast<double>(c.d_model()),
               f = static_cast<double>(c.d_ff()), V = static_cast<double>(c.vocab_size()),
               H = static_cast<double>(c.n_heads()), dh = static_cast<double>(c.d_head()),
               L = static_cast<double>(c.n_layers());
  const double pairs = t * (t + 1) / 2;  // (i, j) with j <= i
  return {
      L * 4 * 2 * t * d * d,
      L * 2 * 2 * dh * pairs * H,
      L * 2 * 2 * t * d * f,
      2 * t * d * V,
  };
}

}  // namespace minimodel
