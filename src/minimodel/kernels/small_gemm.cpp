#include "minimodel/kernels/small_gemm.hpp"

#include <libxsmm.h>

#include <algorithm>

extern "C" int openblas_get_num_threads(void);  // OpenBLAS's own API (not CBLAS)

namespace minimodel::kernels {

namespace {
void initialise() {
  static const bool done = [] {
    libxsmm_init();  // reads LIBXSMM_TARGET, detects the CPU
    return true;
  }();
  (void)done;
}
}  // namespace

bool small_gemm(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                std::size_t ldb, float* c, std::size_t ldc) {
  initialise();
  // libxsmm is column-major: row-major c = a·b is column-major cᵀ = bᵀ·aᵀ, the same memory,
  // so the kernel multiplies b (as an n × k column-major matrix) by a (k × m).
  const auto M = static_cast<libxsmm_blasint>(n), N = static_cast<libxsmm_blasint>(m),
             K = static_cast<libxsmm_blasint>(k);
  const auto ld_a = static_cast<libxsmm_blasint>(ldb), ld_b = static_cast<libxsmm_blasint>(lda),
             ld_c = static_cast<libxsmm_blasint>(ldc);
  const float alpha = 1.0f, beta = 0.0f;
  const int flags = LIBXSMM_GEMM_FLAG_NONE;
  const libxsmm_smmfunction kernel =
      libxsmm_smmdispatch(M, N, K, &ld_a, &ld_b, &ld_c, &alpha, &beta, &flags, nullptr);
  if (kernel == nullptr) return false;
  kernel(b, a, c);
  return true;
}

void transpose(const float* in, std::size_t rows, std::size_t cols, std::size_t ld_in, float* out,
               std::size_t ld_out) {
  initialise();
  // Column-major view: in is (cols × rows) with leading dimension ld_in, out its transpose.
  libxsmm_otrans(out, in, sizeof(float), static_cast<libxsmm_blasint>(cols), static_cast<libxsmm_blasint>(rows),
                 static_cast<libxsmm_blasint>(ld_in), static_cast<libxsmm_blasint>(ld_out));
}

int worker_threads() { return openblas_get_num_threads(); }

int workers_for(std::size_t n) { return n >= (std::size_t{1} << 16) ? std::max(1, worker_threads()) : 1; }

const char* small_gemm_target() {
  initialise();
  return libxsmm_get_target_arch();
}

}  // namespace minimodel::kernels
