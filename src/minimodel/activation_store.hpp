#pragma once
// ActivationStore: the activations a backward pass needs, kept by a forward only when asked.
//
// It is a Tracer. Passed as ForwardOptions::tracer, it receives every operation the forward
// reports, with its output values, and keeps a copy of those the backward reads:
//
//   embed, block_i.ln1, .attn.v, .attn.q_rope, .attn.k_rope, .attn.weights, .attn.heads,
//   .resid1, .ln2, .ffn.pre, .ffn.gelu, .resid2, ln_final
//
// A forward without it keeps nothing and allocates nothing (its fast path is unchanged); the
// forward code does not know that a backward exists. Everything else the backward needs is
// either a parameter or one of these: the input of block_i's LN1 is the previous event, the
// output of block_{i-1} (or embed for block 0), which the backward is told by name.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "minimodel/tensor.hpp"
#include "minimodel/trace.hpp"

namespace minimodel {

class ActivationStore : public Tracer {
 public:
  bool wants_values() const override { return true; }
  // Keeps a copy of the values of an event the backward reads; ignores the others. An event
  // name seen twice is an Error: one store holds one forward (call clear() before the next).
  void record(const TraceEvent& event) override;

  bool contains(std::string_view name) const;
  // The values of event `name` as a matrix: (T, d) for most events, (H·T, T) for the (H, T, T)
  // attention weights (head h is rows [h·T, (h+1)·T)). Throws Error naming the event when it
  // was not recorded, and when its shape is not `rows` × `cols`.
  const Matrix& at(std::string_view name, std::size_t rows, std::size_t cols) const;

  std::size_t size() const { return kept_.size(); }
  // Floats held: what keeping the activations costs.
  std::size_t float_count() const;
  void clear() { kept_.clear(); }

  // The first activation of block `block` ("block_0") that the backward reads and this store
  // lacks (a forward that skipped an operation recorded none for it), or "" when none is missing.
  std::string first_missing(std::string_view block) const;

  // True for the names listed above.
  static bool needed_by_backward(std::string_view name);

 private:
  std::map<std::string, Matrix, std::less<>> kept_;
};

}  // namespace minimodel
