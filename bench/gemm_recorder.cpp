#include "gemm_recorder.hpp"

#include <dlfcn.h>

#include <cblas.h>  // OpenBLAS's prototype, which the definition below must match exactly

#include <cstdio>
#include <cstdlib>

namespace minimodel::bench {

namespace {

thread_local GemmRecorder* active_recorder = nullptr;

// With this program defining cblas_sgemm, a linker that drops unneeded shared libraries
// (--as-needed, Debian's default) would drop the BLAS when the program uses nothing else of it,
// and dlsym below would find no cblas_sgemm. Taking the address of another CBLAS function keeps it.
[[gnu::used]] auto* const keep_blas_linked = &cblas_sdot;

using Sgemm = void (*)(OPENBLAS_CONST enum CBLAS_ORDER, OPENBLAS_CONST enum CBLAS_TRANSPOSE,
                       OPENBLAS_CONST enum CBLAS_TRANSPOSE, OPENBLAS_CONST blasint, OPENBLAS_CONST blasint,
                       OPENBLAS_CONST blasint, OPENBLAS_CONST float, OPENBLAS_CONST float*, OPENBLAS_CONST blasint,
                       OPENBLAS_CONST float*, OPENBLAS_CONST blasint, OPENBLAS_CONST float, float*,
                       OPENBLAS_CONST blasint);

// The BLAS's own cblas_sgemm: the next definition after this program's, looked up once.
Sgemm blas_sgemm() {
  static const Sgemm real = [] {
    auto* found = reinterpret_cast<Sgemm>(dlsym(RTLD_NEXT, "cblas_sgemm"));
    if (found == nullptr) {
      std::fprintf(stderr, "gemm_recorder: no cblas_sgemm after this program's (%s)\n", dlerror());
      std::abort();
    }
    return found;
  }();
  return real;
}

}  // namespace

GemmRecorder::GemmRecorder() : outer_(active_recorder) { active_recorder = this; }
GemmRecorder::~GemmRecorder() { active_recorder = outer_; }

void replay(const GemmCall& g, const float* a, const float* b, float* c) {
  blas_sgemm()(CblasRowMajor, g.transpose_a ? CblasTrans : CblasNoTrans, g.transpose_b ? CblasTrans : CblasNoTrans,
               static_cast<blasint>(g.m), static_cast<blasint>(g.n), static_cast<blasint>(g.k), g.alpha, a,
               static_cast<blasint>(g.lda), b, static_cast<blasint>(g.ldb), g.beta, c, static_cast<blasint>(g.ldc));
}

}  // namespace minimodel::bench

// This program's cblas_sgemm: records, then hands the call to the BLAS.
extern "C" void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER Order, OPENBLAS_CONST enum CBLAS_TRANSPOSE TransA,
                            OPENBLAS_CONST enum CBLAS_TRANSPOSE TransB, OPENBLAS_CONST blasint M,
                            OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                            OPENBLAS_CONST float* A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float* B,
                            OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float* C,
                            OPENBLAS_CONST blasint ldc) {
  using namespace minimodel::bench;
  if (active_recorder != nullptr && Order == CblasRowMajor) {
    const auto size = [](blasint v) { return static_cast<std::size_t>(v); };
    active_recorder->record({TransA == CblasTrans, TransB == CblasTrans, size(M), size(N), size(K), size(lda),
                             size(ldb), size(ldc), alpha, beta});
  }
  blas_sgemm()(Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
