// The backward of embedding.cpp: the tied head and the lookup.
#include "minimodel/backward/backward.hpp"

#include "minimodel/backward/detail.hpp"
#include "minimodel/embedding.hpp"

namespace minimodel {

using namespace backward_detail;

void lm_head_backward(const Matrix& h, const Parameter& E, const Matrix& dlogits, Matrix& dh,
                      xt::xarray<float>& dE) {
  const std::size_t T = h.shape(0), V = E.value.shape(0), d = E.value.shape(1);
  require_shape(h, T, d, "head input h");
  require_shape(dlogits, T, V, "dlogits");
  require_size(dE, V * d, "E");
  // dE (V, d) += dlogitsᵀ (V, T) · h (T, d)
  gemm(view(dlogits), Transpose::yes, view(h), Transpose::no, view_of(dE), 1.0f, 1.0f);
  // dh (T, d) = dlogits (T, V) · E (V, d)
  ensure_shape(dh, T, d);
  gemm(view(dlogits), view(E), Transpose::no, view(dh));
}

void embedding_backward(std::span<const TokenId> tokens, const Matrix& dh0, xt::xarray<float>& dE) {
  const std::size_t T = tokens.size(), d = dh0.shape(1), V = dE.shape(0);
  if (dh0.shape(0) != T || dE.dimension() != 2 || dE.shape(1) != d) {
    throw Error("embedding_backward: dh0 must be (T, d_model) and dE (vocab_size, d_model)");
  }
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t id = static_cast<std::size_t>(tokens[t]);
    if (id >= V) throw Error(fmt::format("embedding_backward: token id {} >= vocab_size {}", id, V));
    float* row = dE.data() + id * d;
    const float* g = dh0.data() + t * d;
    for (std::size_t j = 0; j < d; ++j) row[j] += g[j];
  }
}

}  // namespace minimodel
