#pragma once
// What a forward may be asked to do beyond its inputs.
#include <cstddef>

namespace minimodel {

class Tracer;
struct ActivationRecord;

struct ForwardOptions {
  // Index of the first position, so RoPE can continue a sequence. Reserved for the KV cache
  // of a later chapter; 0 here. position_offset + T must not exceed context_len.
  std::size_t position_offset = 0;
  // False only for lab03's negative control, which shows what leaks without the mask.
  bool causal_mask = true;
  // Receives every operation when not null.
  Tracer* tracer = nullptr;
  // When not null, the forward keeps in it what the backward reads (activations.hpp). A
  // forward without it keeps nothing.
  ActivationRecord* activations = nullptr;
  // After the forward, scan the logits (cheap: O(T·V)); if one is NaN or infinite, run the
  // forward again under a FiniteGuard and throw NumericalError naming the first operation
  // that produced a non-finite value.
  bool check_finite = true;
};

}  // namespace minimodel
