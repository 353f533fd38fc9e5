#pragma once
// The hand-made reference: the same forward as MiniGPT, written again in plain loops and
// double precision. It shares nothing with the model beyond reading the config and the
// weights — no xtensor, no BLAS, no helper of the fast path — so an error in one is not
// copied into the other. It is slow on purpose; the labs and tests compare the model to it.
#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
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

// A tensor of the given shape, every entry 0.
Tensor zeros(const std::vector<std::size_t>& shape);

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

// Weights as doubles, by parameter name (CONVENTIONS.md §9). The finite-difference checks of the backward perturb one of
// them by far less than an fp32 ulp, which the model's fp32 registry could not hold.
using Weights = std::map<std::string, Tensor, std::less<>>;

// Every parameter of the registry, converted exactly to double.
Weights to_double(const ParameterRegistry& registry);

// tokens (T,) -> logits (T, vocab_size), reading the weights by their names (CONVENTIONS.md §9).
Result forward(const MiniGPTConfig& config, const ParameterRegistry& weights,
               std::span<const TokenId> tokens, const Options& options = {});
// The same on double weights (the same names and shapes; a missing one is an Error).
Result forward(const MiniGPTConfig& config, const Weights& weights,
               std::span<const TokenId> tokens, const Options& options = {});

// One Pre-LN block, block_<index>, on x (T, d_model).
Result block_forward(const MiniGPTConfig& config, const ParameterRegistry& weights,
                     std::size_t index, const Tensor& x, const Options& options = {});
Result block_forward(const MiniGPTConfig& config, const Weights& weights, std::size_t index,
                     const Tensor& x, const Options& options = {});

// The recorded step with this name; throws Error when there is none (keep_steps was off, or
// the name is misspelt).
const Tensor& step(const Result& result, std::string_view name);

// The building blocks of the forward, each on its own so that a test or a lab can hold one
// against a value derived by hand. They check the shapes they are given (Error otherwise).

// GELU in the named form: exact 0.5·x·(1 + erf(x/√2)), or the tanh approximation
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
double gelu(double x, GeluForm form);

// x (T, d) -> (T, d): per row, (x - mean)/sqrt(biased variance + eps)·gamma + beta;
// gamma and beta have d entries.
Tensor layer_norm(const Tensor& x, std::span<const double> gamma, std::span<const double> beta,
                  double eps);

// x (T, d) -> (T, d), d = n_heads·d_head: in every head, the interleaved pair (2i, 2i+1) of
// row t is rotated by the angle (position_offset + t)·base^(-2i/d_head).
// RMSNorm over the last axis: gamma * x / sqrt(mean(x²) + eps) — the variant's norm.
Tensor rms_norm(const Tensor& x, std::span<const double> gamma, double eps);

Tensor rope(const Tensor& x, std::size_t n_heads, double base, std::size_t position_offset);

// In place over the last axis of a tensor of any rank: exp(v - row max) / sum. A -infinity
// entry becomes exactly 0.
void softmax_last_axis(Tensor& x);

}  // namespace minimodel::reference
