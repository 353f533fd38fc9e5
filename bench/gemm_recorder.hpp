#pragma once
// GemmRecorder: the products a forward hands to BLAS, recorded from outside the library.
//
// The library calls cblas_sgemm and has no hook of its own. A program that compiles
// gemm_recorder.cpp defines cblas_sgemm itself; the linker binds the (static) library's calls
// to that definition, which appends the call to the innermost live recorder of its thread and
// then calls the BLAS's own cblas_sgemm (found with dlsym(RTLD_NEXT)). Only such a program
// (the benchmarks, the test of the recording) pays the thread-local read per product; the
// library and every other program call OpenBLAS directly.
#include <cstddef>
#include <vector>

namespace minimodel::bench {

// One product as the library handed it to BLAS (row-major sgemm arguments).
struct GemmCall {
  bool transpose_a, transpose_b;
  std::size_t m, n, k;        // op(a) is (m, k), op(b) is (k, n), c is (m, n)
  std::size_t lda, ldb, ldc;  // row strides
  float alpha, beta;
};

// While a recorder is alive, every cblas_sgemm on its thread is also appended to it. Recorders
// nest (the innermost one records).
class GemmRecorder {
 public:
  GemmRecorder();
  ~GemmRecorder();
  GemmRecorder(const GemmRecorder&) = delete;
  GemmRecorder& operator=(const GemmRecorder&) = delete;

  const std::vector<GemmCall>& calls() const { return calls_; }
  void record(const GemmCall& call) { calls_.push_back(call); }

 private:
  std::vector<GemmCall> calls_;
  GemmRecorder* outer_;
};

// Replays a recorded call on the BLAS's own cblas_sgemm (not through the recording one), with
// the given operands: c = alpha·op(a)·op(b) + beta·c.
void replay(const GemmCall& call, const float* a, const float* b, float* c);

}  // namespace minimodel::bench
