#include "minimodel/embedding.hpp"

#include <algorithm>

#include "minimodel/contract.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/matmul.hpp"

namespace minimodel {

Embedding::Embedding(ParameterRegistry& registry, const MiniGPTConfig& config)
    : E_(registry.add("E", {config.vocab_size(), config.d_model()}, InitRule::normal(0.02))) {}

void Embedding::forward(std::span<const TokenId> tokens, Matrix& h) const {
  const std::size_t T = tokens.size(), V = E_.value.shape(0), d = E_.value.shape(1);
  const auto in_vocab = [V](TokenId id) { return id >= 0 && static_cast<std::size_t>(id) < V; };
  MINIMODEL_EXPECT(std::all_of(tokens.begin(), tokens.end(), in_vocab),
                   "embed: tokens ({},) hold an id outside E (vocab_size, d_model) = ({}, {})", T, V, d);
  ensure_shape(h, T, d);
  for (std::size_t t = 0; t < T; ++t) {
    const float* row = E_.data() + static_cast<std::size_t>(tokens[t]) * d;  // E[tokens[t]]
    std::copy(row, row + d, h.data() + t * d);
  }
  trace_op("embed", "", {Operand::vector(T), E_}, "→", h, "h0 = E[tokens]");
}

const Parameter& TiedLMHead::weight() const {
  // STARTER-BEGIN 8 · LM head weight, the tie | theory/03-tied-embeddings-and-lm-head.md § logits = h·Eᵀ
  // | computes: which matrix the head reads: the embedding's E itself (tied), not a copy
  // | shapes:   E (vocab_size, d_model), from embedding_.E()
  // | NumPy:    W_head = E         # the same array, not E.copy()
  // | unlocks:  lab 02's shared-storage checks; with piece 9, the head in labs 01 and 03
  return embedding_.E();
  // STARTER-END
}

void TiedLMHead::forward(const Matrix& h, Matrix& logits) const {
  const Parameter& W = weight();  // (V, d): E itself
  const std::size_t T = h.shape(0), V = W.value.shape(0);
  MINIMODEL_EXPECT(h.shape(1) == W.value.shape(1),
                   "logits: h (T, d_model) = ({}, {}), E (vocab_size, d_model) = ({}, {})",
                   T, h.shape(1), V, W.value.shape(1));
  ensure_shape(logits, T, V);
  // STARTER-BEGIN 9 · LM head, logits = h·Eᵀ | theory/03-tied-embeddings-and-lm-head.md § logits = h·Eᵀ
  // | computes: logits = h·Eᵀ: every position scored against every token's embedding
  // | shapes:   h (T, d_model) · W (vocab_size, d_model) read transposed -> logits (T, vocab_size),
  // |           logits already sized
  // | NumPy:    logits = h @ E.T
  // | use:      gemm(a, b, Transpose::yes, c) from matmul.hpp computes a·bᵀ into c; view(m)
  // |           makes the operand of a Matrix or a Parameter
  // | unlocks:  with pieces 8 and 10, lab 01's 37th operation and lab 03
  // Eᵀ is never formed: BLAS reads E (V, d) as transposed.
  gemm(view(h), view(W), Transpose::yes, view(logits));
  // STARTER-END
  trace_op("logits", "", {h, Operand::transposed(W)}, "·", logits, "h·Eᵀ (tied: the storage of E)");
}

}  // namespace minimodel
