#pragma once
// FiniteGuard: a tracer that stops a forward at the first operation whose output holds a NaN
// or an infinity, and names it. The labs run with it, so a student who breaks a layer sees
// "block_0.ffn.gelu produced nan at [3, 17]" instead of a table of NaNs.
//
// The one infinity that belongs in a forward is the mask's −∞ in "<block>.attn.masked";
// it is allowed there and nowhere else.
#include "minimodel/trace.hpp"

namespace minimodel {

class FiniteGuard : public Tracer {
 public:
  // Events are passed on to `next` (if any) after they are checked.
  explicit FiniteGuard(Tracer* next = nullptr) : next_(next) {}

  bool wants_values() const override { return true; }
  // Throws NumericalError naming the operation, the index and the value.
  void record(const TraceEvent& event) override;

 private:
  Tracer* next_;
};

}  // namespace minimodel
