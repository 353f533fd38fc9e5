#include "minimodel/embedding.hpp"

#include <algorithm>

#include "minimodel/errors.hpp"
#include "minimodel/matmul.hpp"

namespace minimodel {

Embedding::Embedding(ParameterRegistry& registry, const MiniGPTConfig& config)
    : E_(registry.add("E", {config.vocab_size(), config.d_model()}, InitRule::normal(0.02))) {}

void Embedding::forward(std::span<const TokenId> tokens, Matrix& h, Tracer* tracer) const {
  const std::size_t T = tokens.size(), V = E_.value.shape(0), d = E_.value.shape(1);
  ensure_shape(h, T, d);
  for (std::size_t t = 0; t < T; ++t) {
    const float* row = E_.data() + static_cast<std::size_t>(tokens[t]) * d;  // E[tokens[t]]
    std::copy(row, row + d, h.data() + t * d);
  }
  report(tracer, [&] {
    return TraceEvent{"embed", {{T}, {V, d}}, "→", {T, d}, "h0 = E[tokens]",
                      values_for(tracer, h.data(), h.size())};
  });
}

void TiedLMHead::forward(const Matrix& h, Matrix& logits, Tracer* tracer) const {
  const std::size_t T = h.shape(0), V = E_.value.shape(0), d = E_.value.shape(1);
  ensure_shape(logits, T, V);
  // STARTER-BEGIN tied LM head | theory/03-tied-embeddings-and-lm-head.md § logits = h·Eᵀ
  // Eᵀ is never formed: BLAS reads E (V, d) as transposed.
  gemm(view(h), view(E_), Transpose::yes, view(logits));
  // STARTER-END
  report(tracer, [&] {
    return TraceEvent{"logits", {{T, d}, {d, V}}, "·", {T, V}, "h·Eᵀ (tied: the storage of E)",
                      values_for(tracer, logits.data(), logits.size())};
  });
}

}  // namespace minimodel
