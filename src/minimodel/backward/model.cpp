// The backward of model.cpp: the whole model, and the Gradients it fills.
#include "minimodel/backward/backward.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "minimodel/backward/detail.hpp"
#include "minimodel/model.hpp"

namespace minimodel {

using namespace backward_detail;

Gradients zero_gradients(const ParameterRegistry& registry) {
  Gradients g;
  for (const Parameter& p : registry) g.parameters.emplace(p.name, xt::zeros<float>(p.value.shape()));
  return g;
}

const xt::xarray<float>& Gradients::at(std::string_view name) const {
  const auto it = parameters.find(name);
  if (it == parameters.end()) throw Error(fmt::format("no gradient for a parameter named '{}'", name));
  return it->second;
}

xt::xarray<float>& Gradients::at(std::string_view name) {
  return const_cast<xt::xarray<float>&>(std::as_const(*this).at(name));
}

Gradients backward(const MiniGPT& model, const ActivationRecord& record, std::span<const TokenId> tokens,
                   const Matrix& dlogits, const BackwardOptions& options) {
  const MiniGPTConfig& config = model.config();
  model.validate_tokens(tokens, options.position_offset);
  const std::size_t T = tokens.size(), d = config.d_model(), V = config.vocab_size(), L = config.n_layers();
  require_shape(dlogits, T, V, "dlogits");
  if (record.blocks.size() != L) {
    throw Error(fmt::format("backward: the activation record holds {} blocks, the model {} (was the "
                            "forward run with ForwardOptions::activations?)",
                            record.blocks.size(), L));
  }
  const Parameter& E = model.embedding().E();

  // The record must hold the forward of these tokens: block 0's input rows are E[tokens], exactly.
  const Matrix& h0 = record.blocks[0].input;
  require_shape(h0, T, d, "block_0.input (kept)");
  for (std::size_t t = 0; t < T; ++t) {
    const float* row = E.data() + static_cast<std::size_t>(tokens[t]) * d;
    if (!std::equal(row, row + d, h0.data() + t * d)) {
      throw Error(fmt::format("backward: the activation record holds another forward (block_0's "
                              "input row {} is not E[{}])",
                              t, tokens[t]));
    }
  }

  Gradients grads = zero_gradients(model.parameters());
  xt::xarray<float>& dE = grads.at(E.name);

  // logits = h·Eᵀ (the tied head: its gradient goes to E)
  Matrix dh;
  require_shape(record.ln_final, T, d, "ln_final (kept)");
  lm_head_backward(record.ln_final, model.lm_head().weight(), dlogits, dh, dE);

  // ln_final, whose input is the last block's output
  const LayerNorm& ln_final = model.ln_final();
  Matrix d_blocks;
  norm_backward(ln_final, record.blocks[L - 1].resid2, record.ln_final_stats, dh, d_blocks,
                grads.at(ln_final.gamma().name), ln_final.beta() ? &grads.at(ln_final.beta()->name) : nullptr);

  // The blocks, last first; each kept its own input.
  for (std::size_t i = L; i-- > 0;) {
    d_blocks = block_backward(model.block(i), record.blocks[i], d_blocks, grads, options);
  }

  // h0 = E[tokens]: E's second gradient, added to the head's (tied: one tensor, two uses).
  embedding_backward(tokens, d_blocks, dE);
  grads.d_embeddings = std::move(d_blocks);
  return grads;
}

}  // namespace minimodel
