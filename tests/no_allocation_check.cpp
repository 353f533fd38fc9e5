// A forward with no tracer allocates nothing once its workspace has seen the length.
//
// This replaces the global operator new to count allocations, which is why it is a program
// of its own and not part of the Catch2 suite (where the framework itself allocates).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/model.hpp"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {
// Forwards of each length after the first (which may allocate: the buffers take this length's
// shape) must allocate nothing. Returns how many lengths did.
int check_lengths(const minimodel::MiniGPT& model, std::initializer_list<std::size_t> lengths, const char* what) {
  int failures = 0;
  minimodel::ForwardWorkspace workspace;
  for (const std::size_t T : lengths) {
    std::vector<minimodel::TokenId> tokens(T, 5);
    model.forward(tokens, workspace);
    const long before = allocations.load();
    for (int i = 0; i < 3; ++i) model.forward(tokens, workspace);
    const long during = allocations.load() - before;
    std::printf("%s, T = %3zu: %ld allocations in 3 forwards after the first\n", what, T, during);
    failures += during != 0;
  }
  return failures;
}
}  // namespace

int main() {
  const minimodel::MiniGPT model;
  int failures = check_lengths(model, {8, 32, 1, 8}, "locked model");
  // Attention's large-size paths (src/minimodel/attention.cpp): products on OpenBLAS in pieces
  // of keys, q, k and v in the FFN's buffer, heads over q, heads in parallel on 2 threads.
  const minimodel::MiniGPT large(minimodel::MiniGPTConfig(minimodel::ConfigValues{
      .d_model = 128, .n_heads = 2, .n_layers = 2, .d_ff = 512, .vocab_size = 50, .context_len = 160}));
  failures += check_lengths(large, {130, 64, 130}, "d_model 128, d_head 64");
  // The check can fail: the convenience overload builds a workspace on every call.
  std::vector<minimodel::TokenId> tokens(8, 5);
  const long before = allocations.load();
  (void)model.forward(tokens);
  const long fresh = allocations.load() - before;
  std::printf("forward without a workspace: %ld allocations (expected > 0)\n", fresh);
  failures += fresh == 0;
  std::printf("%s\n", failures == 0 ? "PASS" : "FAIL");
  return failures == 0 ? 0 : 1;
}
