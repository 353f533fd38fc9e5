#pragma once
// Vectorised copies of two student pieces, for the solution's forward: GELU's exact form
// (gelu_exact, gelu.cpp) and LayerNorm's forward (LayerNorm::forward, layer_norm.cpp). Chosen
// per CPU at run time like the softmax's kernels (simd_math.hpp: active_isa, MINIMODEL_SIMD).
//
// Solution only. A handout (scripts/handout.sh) leaves out this header and its files
// (pieces_simd*.{hpp,cpp}): a student must not receive a working GELU or LayerNorm to call or
// copy from. The routing code (gelu_rows.cpp, layer_norm.cpp) names them only when
// MINIMODEL_SCALAR_PIECES is not defined, and every student's build defines it
// (cmake/student.cmake). tests/test_simd_math.cpp compares them with the pieces.
#include <cstddef>

#include "minimodel/kernels/simd_math.hpp"  // Isa

namespace minimodel::kernels {

// values[i] = 0.5·x·erfc(−x/√2), x = values[i]: gelu_exact on n values, in place. The form
// without an Isa runs on active_isa() and, for large n (GPT-2-sized buffers), on as many OpenMP
// threads as OpenBLAS uses; each value's result is the same either way.
void gelu_exact_inplace(float* values, std::size_t n);
void gelu_exact_inplace(Isa isa, float* values, std::size_t n);

// LayerNorm (or RMSNorm, rms = true: no mean, no beta) of each of `rows` rows of d floats:
// y[t] = gamma ⊙ (x[t] − mean) / √(var + eps) + beta, the steps of LayerNorm::forward (the
// student piece) with its two sums split over the vector lanes. It also writes each row's
// statistics, as the piece does into NormStatistics: mean[t] (0 for RMSNorm) and
// rstd[t] = 1/√(var + eps), the very numbers y[t] was computed with, which the backward reads
// (backward/layer_norm.cpp). beta may be nullptr. x and y do not overlap; mean and rstd hold
// `rows` floats each.
void layer_norm(const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma, const float* beta,
                float eps, bool rms, float* mean, float* rstd);
void layer_norm(Isa isa, const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma,
                const float* beta, float eps, bool rms, float* mean, float* rstd);

}  // namespace minimodel::kernels
