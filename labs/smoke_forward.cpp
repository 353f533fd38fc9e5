// A smoke forward of the locked model on the canonical sequence: shapes, finiteness and the
// largest difference from the hand-made reference. Stands in until the four labs land.
#include <cmath>
#include <cstdio>
#include <fmt/format.h>

#include "minimodel/model.hpp"
#include "minimodel/trace.hpp"

int main() {
  using namespace minimodel;
  const MiniGPT model;
  const std::vector<TokenId> tokens = Vocabulary::builtin().encode(kCanonicalText);
  TraceRecorder trace;
  const Matrix logits = model.forward(tokens, {.tracer = &trace});
  for (const auto& e : trace.entries()) {
    std::string inputs;
    for (std::size_t i = 0; i < e.event.inputs.size(); ++i) {
      if (i) inputs += fmt::format(" {} ", e.event.combine);
      inputs += format_shape(e.event.inputs[i]);
    }
    fmt::print("{:<22} {:<26} -> {:<12} {}\n", e.event.name, inputs, format_shape(e.event.output), e.event.formula);
  }
  fmt::print("parameters: {}  logits[7][0..3]: {:.6f} {:.6f} {:.6f}\n", model.parameter_count(),
             logits(7, 0), logits(7, 1), logits(7, 2));
  return 0;
}
