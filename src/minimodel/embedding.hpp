#pragma once
// The token embedding and the LM head that is TIED to it.
//
//   embed:  h0 = E[tokens]        E is (vocab_size, d_model); one row per token
//   head:   logits = h·Eᵀ         (T, d_model) · (d_model, vocab_size) -> (T, vocab_size)
//
// Tying means the head reads the very same storage as the embedding: TiedLMHead holds a
// reference to the `E` parameter, not a copy, so the model has V·d parameters fewer than an
// untied one and a change to E (by loading or, later, by training) reaches both at once.
#include <span>

#include "minimodel/config.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/trace.hpp"
#include "minimodel/vocab.hpp"

namespace minimodel {

class Embedding {
 public:
  // Registers `E` (vocab_size, d_model) ~ N(0, 0.02²).
  Embedding(ParameterRegistry& registry, const MiniGPTConfig& config);

  // (T,) ids -> (T, d_model). Ids must already be validated (MiniGPT::validate_tokens).
  // Reports `embed` to the active tracer (trace.hpp).
  void forward(std::span<const TokenId> tokens, Matrix& h) const;

  const Parameter& E() const { return E_; }

 private:
  Parameter& E_;
};

class TiedLMHead {
 public:
  explicit TiedLMHead(const Embedding& embedding) : embedding_(embedding) {}

  // (T, d_model) -> (T, vocab_size). No softmax: these are logits. Reports `logits` to the
  // active tracer (trace.hpp).
  void forward(const Matrix& h, Matrix& logits) const;

  // The matrix the head multiplies by (transposed): the embedding's own storage, E itself.
  // Tying is this function's answer (embedding.cpp): a copy would be an untied head.
  const Parameter& weight() const;

 private:
  const Embedding& embedding_;
};

}  // namespace minimodel
