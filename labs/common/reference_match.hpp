#pragma once
// Holding the model's traced operations against the double reference's steps: the comparison
// lab 00 and lab 01 make, with the tolerance of src/minimodel/tolerance.hpp (lab 01) or a
// fixed bound (lab 00's toy). The labs print and check; this computes what they print.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "minimodel/reference.hpp"
#include "minimodel/tolerance.hpp"
#include "minimodel/trace.hpp"

namespace lab {

// max |a − b| over two equally long lists. Equal infinities (a masked score on both sides)
// count as 0; an infinity against a finite number or a NaN anywhere makes the result
// infinite or NaN, which fails any `diff <= tol` test.
double max_abs_diff(std::span<const double> a, std::span<const double> b);

// One operation of the model held against the reference's step of the same name.
struct OperationMatch {
  double max_diff = 0.0;      // max |model − reference| over the entries (NaN if one is NaN)
  bool within = true;         // every entry within atol + rtol·|reference|
  std::size_t first_out = 0;  // when not within: the flat index of the first entry outside
  double allowed = 0.0;       // and its bound, atol + rtol·|reference|
};

OperationMatch match(std::span<const float> model, const std::vector<double>& reference,
                     const minimodel::ReferenceTolerance& tol);

// Each traced operation against the reference's step of the same name, when the reference has
// one of the same shape (nothing otherwise).
std::vector<std::optional<OperationMatch>> match_operations(const std::vector<minimodel::TraceRecorder::Entry>& entries,
                                                            const minimodel::reference::Result& reference,
                                                            const minimodel::ReferenceTolerance& tol);

// The first way the traced operations differ from the reference's steps in name, shape or
// order ("#5 is block_0.attn.k where the reference runs block_0.attn.q", ...); "" when they
// are the same operations.
std::string first_operation_mismatch(const std::vector<minimodel::TraceRecorder::Entry>& entries,
                                     const minimodel::reference::Result& reference);

// The first operation whose output leaves the tolerance, with the entry, both values and the
// bound; or, when none does, a message if fewer operations than the reference's could be
// compared; "" when every one was compared and is within. `compared` counts the operations
// compared up to the first divergence.
std::string first_divergence(const std::vector<minimodel::TraceRecorder::Entry>& entries,
                             const minimodel::reference::Result& reference,
                             const std::vector<std::optional<OperationMatch>>& matches, std::size_t& compared);

}  // namespace lab
