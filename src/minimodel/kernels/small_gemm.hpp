#pragma once
// Products too small for BLAS's fixed cost, and products run inside a parallel region (where a
// BLAS call would start threads of its own): on libxsmm, which generates a kernel for each
// shape and for the running CPU at run time (LIBXSMM_TARGET forces an instruction set), and
// keeps it for the next call. Attention's small per-head products go here (attention.cpp, which
// sends the larger ones to OpenBLAS: libxsmm's code registry costs about 11 MB resident from the
// first call, so a GPT-2-sized forward never makes one).
#include <cstddef>

namespace minimodel::kernels {

// c = a·b, row-major: a (m, k) with row stride lda, b (k, n) with stride ldb, c (m, n) with
// stride ldc, c overwritten. Single-threaded, safe to call from several threads at once.
// Returns false, touching nothing, when libxsmm has no kernel for the shape (the caller then
// uses BLAS).
bool small_gemm(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                std::size_t ldb, float* c, std::size_t ldc);

// out (cols, rows) = inᵀ for in (rows, cols): row strides ld_in and ld_out. libxsmm's copy.
void transpose(const float* in, std::size_t rows, std::size_t cols, std::size_t ld_in, float* out,
               std::size_t ld_out);

// How many threads the work outside the products may use: as many as OpenBLAS is set to use
// (OPENBLAS_NUM_THREADS, openblas_set_num_threads), so that one setting governs both.
int worker_threads();
// How many of them an elementwise pass over n floats uses: one below 2^16 floats, where waking
// threads costs more than they save (the locked model never splits), worker_threads() from there.
int workers_for(std::size_t n);

// The instruction set libxsmm generates its kernels for ("hsw", "skx", "cpx", "wsm", ...).
const char* small_gemm_target();

}  // namespace minimodel::kernels
