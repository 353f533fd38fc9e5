#pragma once
// The hand-made reference: the same forward as MiniGPT, written again in plain loops and
// double precision. It shares nothing with the model beyond reading the config and the
// weights — no xtensor, no BLAS, no helper of the fast path — so an error in one is not
// copied into the other. It is slow on purpose; the labs and tests compare the model to it.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/vocab.hpp"

namespace minimodel::reference {

// A row-major array of doubles with its shape.
struct Tensor {
  std::vector<std::size_t> shape;
  std::vector<double> data;
};

// One intermediate, named and shaped exactly as the model's trace names it
// ("block_0.attn.scores", (H, T, T), ...).
struct Step {
  std::string name;
  Tensor value;
};

struct Options {
  std::size_t position_offset = 0;  // RoPE position of row 0
  bool causal_mask = true;
  bool keep_steps = false;          // record every intermediate in Result::steps
};

struct Result {
  Tensor output;            // logits (T, V) for forward(); y (T, d) for block_forward()
  std::vector<Step> steps;  // empty unless Options::keep_steps
};

// tokens (T,) -> logits (T, vocab_size), reading the weights by their SPEC names.
Result forward(const MiniGPTConfig& config, const ParameterRegistry& weights,
               std::span<const TokenId> tokens, const Options& options = {});

// One Pre-LN block, block_<index>, on x (T, d_model).
Result block_forward(const MiniGPTConfig& config, const ParameterRegistry& weights,
                     std::size_t index, const Tensor& x, const Options& options = {});

}  // namespace minimodel::reference
