#pragma once
// Gradient checks: the evidence that every gradient of backward.hpp can be trusted.
//
// Two comparisons per parameter tensor, both through the scalar L = Σ G ⊙ logits with a fixed
// random upstream G (T, V), so that dL/dlogits = G and dL/dθ = backward(G):
//
//   1. finite differences: (L(θ + h) − L(θ − h)) / 2h, in double, with the double reference
//      forward, against the double reference backward (reference_backward.hpp);
//   2. fp32 vs double: the model's backward (fp32, BLAS) against the same double backward, on
//      the same fp32 weights.
//
// Together: the double backward is the derivative of the reference forward, and the fp32
// backward agrees with it to fp32 rounding. Errors are NORMWISE per tensor,
//
//   error = max_k |a_k − b_k| / max_k |b_k|,
//
// because both errors are absolute in nature (a central difference errs by O(h²·L''' + ε·|L|/h),
// an fp32 sum by O(u·Σ|terms|), whatever the size of the one entry): an entrywise ratio would
// blow up on entries that happen to be near zero and say nothing about the gradient.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "minimodel/model.hpp"
#include "minimodel/backward/reference_backward.hpp"

namespace minimodel {

// ---------------------------------------------------------------------------------------------
// The step and the tolerances (tests/test_backward.cpp and tools/gradcheck use these).
//
// Finite differences, double, central, step h = 1e-6 on every entry. Two errors:
//   truncation  h²/6·|L‴|, which grows as h². The most curved directions are the embedding
//               entries (E ~ N(0, 0.02²)), which LN1 divides by their row's std σ ≈ 0.02, so
//               each derivative order gains ~1/σ: relative error ~(h/σ)²/6, 4e-10 at h = 1e-6.
//   roundoff    δL/h, δL the rounding error of L: ~10·ε·Σ|G ⊙ logits| (a few dozen operations
//               deep; Σ|G ⊙ logits| = 27 for the locked model, 1.4 for the small one) ≈ 6e-14,
//               so ~6e-8 absolute at h = 1e-6, ≲ 3e-7 of the smallest per-tensor max |gradient|
//               of the locked model (0.2). It grows as 1/h.
// Measured (worst over all tensors, tools/gradcheck's cases, h = 1e-4, 1e-5, 1e-6, 1e-7):
// small config 4.7e-5, 4.7e-7, 1.4e-8, 1.6e-7; locked 3.2e-7, 3.2e-9, 9.3e-9, 1.0e-7 — the h²
// law above 1e-5, the 1/h law below 1e-6, so h = 1e-6 sits at the optimum of both configs
// (the small one is ~10× more curved than the estimate: its rows have only 8 entries).
// The tolerance 1e-6 is ~70× the worst error measured at that step and above both estimates,
// while a single wrong term in a gradient — a missing scale, a forgotten path, a swapped
// weight — errs by 1e-3 to 1 (the negative controls in tests/test_backward.cpp show it).
constexpr double kFiniteDifferenceStep = 1e-6;
constexpr double kFiniteDifferenceTolerance = 1e-6;

// fp32 vs double: 2·L·K·u, twice the forward's bound, derived in src/minimodel/tolerance.hpp
// (backward_tolerance(config)); the tests and tools/gradcheck apply it per config. The
// default below is the locked config's, 2·2·256·2^-24 = 6.1e-5. Measured worst 1.8e-6
// (RMSNorm variant of the small config, whose own bound is 2·2·16·2^-24 = 3.8e-6).
constexpr double kFp32Tolerance = 2.0 * 2.0 * 256.0 * 0x1p-24;

struct TensorGradientCheck {
  std::string name;
  std::size_t numel = 0;       // entries in the tensor
  std::size_t sampled = 0;     // entries checked by finite differences
  double fd_error = 0.0;       // normwise: double analytic vs finite differences (sampled)
  double fp32_error = 0.0;     // normwise: fp32 analytic vs double analytic (every entry)
  double max_gradient = 0.0;   // max |double analytic| over the tensor (the normaliser)
};

struct GradientCheckOptions {
  std::size_t max_samples = 0;  // entries per tensor for finite differences; 0 = all of them
  double step = kFiniteDifferenceStep;
  std::uint64_t seed = 1;       // the upstream gradient G and the choice of sampled entries
  std::size_t position_offset = 0;
  bool finite_differences = true;  // false: fp32 vs double only (fd_error and sampled stay 0)
};

struct GradientCheckResult {
  std::vector<TensorGradientCheck> tensors;  // registry order
  double d_embeddings_fp32_error = 0.0;      // fp32 vs double dL/dh0, normwise
  double worst_fd_error() const;
  double worst_fp32_error() const;
  // Every error within its tolerance (NaN fails).
  bool ok(double fd_tolerance = kFiniteDifferenceTolerance, double fp32_tolerance = kFp32Tolerance) const;
};

// The whole check on `model` and `tokens`.
GradientCheckResult check_gradients(const MiniGPT& model, std::span<const TokenId> tokens,
                                    const GradientCheckOptions& options = {});

// The upstream gradient G (T, V): entries uniform in [−1, 1), from `seed`, exactly representable
// in float so that the fp32 and double backward start from the same values.
Matrix upstream_gradient(std::size_t T, std::size_t V, std::uint64_t seed);
reference::Tensor to_double(const Matrix& m);

// L = Σ G ⊙ logits of the double reference forward on `weights`.
double scalar_objective(const MiniGPTConfig& config, const reference::Weights& weights,
                        std::span<const TokenId> tokens, const reference::Tensor& G,
                        std::size_t position_offset = 0);

// Finite differences of scalar_objective against `claimed` (a gradient for every weight),
// per tensor; fills name, numel, sampled, fd_error and max_gradient. Exposed so that a test
// can hand it a deliberately wrong gradient and see it caught.
std::vector<TensorGradientCheck> finite_difference_errors(
    const MiniGPTConfig& config, const reference::Weights& weights, std::span<const TokenId> tokens,
    const reference::Tensor& G, const reference::Weights& claimed, const GradientCheckOptions& options);

// Moves the constants of a fresh model (gamma = 1, beta = 0, biases = 0) to random values
// (gamma in [0.8, 1.2), beta and biases in [−0.2, 0.2)), so that a backward which ignored
// gamma, or a bias, cannot pass a check by luck of the initialisation.
void randomize_constants(MiniGPT& model, std::uint64_t seed);

}  // namespace minimodel
