// A forward with no tracer allocates nothing once its workspace has seen the length.
//
// This replaces the global operator new to count allocations, which is why it is a program
// of its own and not part of the Catch2 suite (where the framework itself allocates).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

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

int main() {
  const minimodel::MiniGPT model;
  int failures = 0;
  minimodel::ForwardWorkspace workspace;
  for (const std::size_t T : {8u, 32u, 1u, 8u}) {
    std::vector<minimodel::TokenId> tokens(T, 5);
    model.forward(tokens, workspace);  // may allocate: the buffers take this length's shape
    const long before = allocations.load();
    for (int i = 0; i < 3; ++i) model.forward(tokens, workspace);
    const long during = allocations.load() - before;
    std::printf("T = %2zu: %ld allocations in 3 forwards after the first\n", T, during);
    failures += during != 0;
  }
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
