#include "minimodel/kernels/pieces_simd.hpp"

#include <algorithm>

#include "minimodel/kernels/small_gemm.hpp"  // workers_for

namespace minimodel::kernels {

namespace detail {
// Defined in pieces_simd_<isa>.cpp, each compiled for its instruction set.
void gelu_exact_sse2(float* values, std::size_t n);
void gelu_exact_avx2(float* values, std::size_t n);
void gelu_exact_avx512(float* values, std::size_t n);
void layer_norm_sse2(const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma,
                     const float* beta, float eps, bool rms, float* mean, float* rstd);
void layer_norm_avx2(const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma,
                     const float* beta, float eps, bool rms, float* mean, float* rstd);
void layer_norm_avx512(const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma,
                       const float* beta, float eps, bool rms, float* mean, float* rstd);
}  // namespace detail

void gelu_exact_inplace(Isa isa, float* values, std::size_t n) {
  switch (isa) {
    case Isa::sse2: return detail::gelu_exact_sse2(values, n);
    case Isa::avx2_fma: return detail::gelu_exact_avx2(values, n);
    case Isa::avx512f: return detail::gelu_exact_avx512(values, n);
  }
}

void layer_norm(Isa isa, const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma,
                const float* beta, float eps, bool rms, float* mean, float* rstd) {
  switch (isa) {
    case Isa::sse2: return detail::layer_norm_sse2(x, y, rows, d, gamma, beta, eps, rms, mean, rstd);
    case Isa::avx2_fma: return detail::layer_norm_avx2(x, y, rows, d, gamma, beta, eps, rms, mean, rstd);
    case Isa::avx512f: return detail::layer_norm_avx512(x, y, rows, d, gamma, beta, eps, rms, mean, rstd);
  }
}

namespace {
// Large buffers are shared among the worker threads (workers_for: as many as OpenBLAS uses), in
// pieces of kChunk values.
constexpr std::size_t kChunk = 1u << 14;
}  // namespace

void layer_norm(const float* x, float* y, std::size_t rows, std::size_t d, const float* gamma, const float* beta,
                float eps, bool rms, float* mean, float* rstd) {
  const Isa isa = active_isa();
  const int workers = workers_for(rows * d);
  const std::size_t rows_per_piece = std::max<std::size_t>(1, kChunk / std::max<std::size_t>(d, 1));
  const std::size_t pieces = (rows + rows_per_piece - 1) / rows_per_piece;
#pragma omp parallel for num_threads(workers) schedule(static) if (workers > 1)
  for (std::size_t p = 0; p < pieces; ++p) {
    const std::size_t r0 = p * rows_per_piece, r1 = std::min(rows, r0 + rows_per_piece);
    layer_norm(isa, x + r0 * d, y + r0 * d, r1 - r0, d, gamma, beta, eps, rms, mean + r0, rstd + r0);
  }
}

void gelu_exact_inplace(float* values, std::size_t n) {
  const Isa isa = active_isa();
  const int workers = workers_for(n);
  const std::size_t pieces = (n + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(workers) schedule(static) if (workers > 1)
  for (std::size_t p = 0; p < pieces; ++p) {
    const std::size_t i0 = p * kChunk, i1 = std::min(n, i0 + kChunk);
    gelu_exact_inplace(isa, values + i0, i1 - i0);
  }
}

}  // namespace minimodel::kernels
