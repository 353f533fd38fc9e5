#include "minimodel/embedding.hpp"

#include <algorithm>

#include "minimodel/errors.hpp"
#include "minimodel/matmul.hpp"

namespace minimodel {

Embedding::Embedding(ParameterRegistry& registry, const MiniGPTConfig& config)
    : E_(registry.add("E", {config.vocab_size(), config.d_model()}, InitRule::normal(0.02))) {}

void Embedding::forward(std::span<const TokenId> tokens, Matrix& h) const {
  const std::size_t T = tokens.size(), d = E_.value.shape(1);
  ensure_shape(h, T, d);
  for (std::size_t t = 0; t < T; ++t) {
    const float* row = E_.data() + static_cast<std::size_t>(tokens[t]) * d;  // E[tokens[t]]
    std::copy(row, row + d, h.data() + t * d);
  }
  trace_op("embed", "", {Operand::vector(T), E_}, "→", h, "h0 = E[tokens]");
}

void TiedLMHead::forward(const Matrix& h, Matrix& logits) const {
  const std::size_t T = h.shape(0), V = E_.value.shape(0);
  ensure_shape(logits, T, V);
  // STARTER-BEGIN tied LM head | theory/03-tied-embeddings-and-lm-head.md § logits = h·Eᵀ
  // Eᵀ is never formed: BLAS reads E (V, d) as transposed.
  gemm(view(h), view(E_), Transpose::yes, view(logits));
  // STARTER-END
  trace_op("logits", "", {h, Operand::transposed(E_)}, "·", logits, "h·Eᵀ (tied: the storage of E)");
}

}  // namespace minimodel
