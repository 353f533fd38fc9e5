// Peak resident memory of one forward at the GPT-2-small shape and T = 1024, against the
// floor it cannot go below: the weights plus the logits. Target: at most 1.07 × that floor.
#include <sys/resource.h>

#include <cstdio>
#include <vector>

#include "minimodel/model.hpp"
#include "shapes.hpp"

int main() {
  const minimodel::MiniGPT model(bench::gpt2_small());
  const std::size_t T = 1024;
  std::vector<minimodel::TokenId> tokens(T);
  for (std::size_t t = 0; t < T; ++t) tokens[t] = static_cast<int>((7 * t + 3) % model.config().vocab_size());
  minimodel::ForwardWorkspace workspace;
  const minimodel::Matrix& logits = model.forward(tokens, workspace);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double MiB = 1024.0 * 1024.0;
  const double peak = static_cast<double>(usage.ru_maxrss) * 1024.0 / MiB;  // ru_maxrss is in KiB
  const double weights = static_cast<double>(model.parameter_count() * sizeof(float)) / MiB;
  const double logits_size = static_cast<double>(logits.size() * sizeof(float)) / MiB;
  const double ratio = peak / (weights + logits_size);
  std::printf("GPT-2-small shape, T = %zu: weights %.1f MiB + logits %.1f MiB = %.1f MiB\n", T, weights,
              logits_size, weights + logits_size);
  std::printf("peak resident memory %.1f MiB = %.3f x (weights + logits); target <= 1.07: %s\n", peak,
              ratio, ratio <= 1.07 ? "met" : "NOT met");
  return ratio <= 1.07 ? 0 : 1;
}
