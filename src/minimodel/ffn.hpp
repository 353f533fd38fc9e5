#pragma once
// The position-wise feed-forward network: FFN(x) = GELU(x·W_1 + b_1)·W_2 + b_2.
// Attention mixes positions; the FFN works inside each position (row) on its own.
#include <string>

#include "minimodel/activations.hpp"
#include "minimodel/config.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/trace.hpp"

namespace minimodel {

class FeedForward {
 public:
  // Registers `<name>.W_1` (d_model, d_ff) ~ N(0, 1/d_model), `.b_1` (d_ff,) = 0,
  // `.W_2` (d_ff, d_model) ~ N(0, 1/d_ff), `.b_2` (d_model,) = 0 — the biases only when
  // config.ffn_biases() (the default).
  FeedForward(ParameterRegistry& registry, std::string name, const MiniGPTConfig& config);

  struct Buffers {
    Matrix hidden;  // (T, d_ff): the pre-activation, then GELU of it, in place
    // When not null, the forward also keeps there what the backward reads (set by the block
    // from ForwardOptions::activations; null keeps nothing).
    FfnActivations* keep = nullptr;
  };

  // (T, d_model) -> (T, d_model). Resizes out when needed. Reports `<name>.pre`, `.gelu` and
  // `.out` to the active tracer (trace.hpp), each once its buffer holds the result.
  void forward(const Matrix& x, Matrix& out, Buffers& buffers) const;
  // The same, with buffers of its own (allocates; for labs and tests).
  void forward(const Matrix& x, Matrix& out) const;

  const std::string& name() const { return name_; }
  GeluForm gelu_form() const { return gelu_; }
  const Parameter& W_1() const { return W_1_; }
  const Parameter* b_1() const { return b_1_; }  // nullptr without biases
  const Parameter& W_2() const { return W_2_; }
  const Parameter* b_2() const { return b_2_; }

 private:
  std::string name_;
  GeluForm gelu_;
  Parameter& W_1_;
  Parameter* b_1_;
  Parameter& W_2_;
  Parameter* b_2_;
};

}  // namespace minimodel
