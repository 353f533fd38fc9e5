#include "minimodel/matmul.hpp"

#include <climits>
#include <fmt/format.h>
// xtensor-blas declares the cblas_* prototypes of the BLAS it was built against (OpenBLAS
// here). Only this file includes it: the header is heavy and nothing else needs it.
#include <xtensor-blas/xblas.hpp>

#include "minimodel/contract.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/kernels/small_gemm.hpp"  // workers_for

// OpenBLAS's out-of-place copy with transposition, which CBLAS itself does not have (openblas's
// cblas.h declares it; this file uses xtensor-blas's declarations of the rest, see above).
extern "C" void cblas_somatcopy(CBLAS_ORDER order, CBLAS_TRANSPOSE trans, CBLAS_INT rows, CBLAS_INT cols,
                                float alpha, const float* a, CBLAS_INT lda, float* b, CBLAS_INT ldb);

namespace minimodel {

namespace {

CBLAS_INT blas_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw Error(fmt::format("matrix dimension {} is too large for BLAS (at most {})", n, INT_MAX));
  }
  return static_cast<CBLAS_INT>(n);
}

}  // namespace

void gemm(MatrixView a, Transpose transpose_a, MatrixView b, Transpose transpose_b, MutableMatrixView c,
          float alpha, float beta) {
  const bool ta = transpose_a == Transpose::yes, tb = transpose_b == Transpose::yes;
  const std::size_t m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols;  // op(a) is (m, k)
  const std::size_t b_rows = tb ? b.cols : b.rows;                       // rows of op(b)
  const std::size_t n = tb ? b.rows : b.cols;
  if (b_rows != k || c.rows != m || c.cols != n) {
    throw Error(fmt::format("gemm shape mismatch: {}({}, {}) · {}({}, {}) -> ({}, {})",
                            ta ? "transpose" : "", a.rows, a.cols, tb ? "transpose" : "", b.rows,
                            b.cols, c.rows, c.cols));
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              blas_int(m), blas_int(n), blas_int(k), alpha, a.data, blas_int(a.stride), b.data,
              blas_int(b.stride), beta, c.data, blas_int(c.stride));
}

void transpose(MatrixView a, MutableMatrixView out) {
  if (out.rows != a.cols || out.cols != a.rows) {
    throw Error(fmt::format("transpose shape mismatch: ({}, {}) -> ({}, {})", a.rows, a.cols, out.rows, out.cols));
  }
  cblas_somatcopy(CblasRowMajor, CblasTrans, blas_int(a.rows), blas_int(a.cols), 1.0f, a.data, blas_int(a.stride),
                  out.data, blas_int(out.stride));
}

void gemm(MatrixView a, MatrixView b, Transpose transpose_b, MutableMatrixView c, float alpha) {
  gemm(a, Transpose::no, b, transpose_b, c, alpha, 0.0f);
}

void linear(const Matrix& x, const Parameter& W, Matrix& y) {
  MINIMODEL_EXPECT(W.value.dimension() == 2 && x.shape(1) == W.value.shape(0),
                   "linear: x (T, d_in) = ({}, {}), W (d_in, d_out) = {}",
                   x.shape(0), x.shape(1),
                   format_shape(Shape(W.value.shape().begin(), W.value.shape().end())));
  ensure_shape(y, x.shape(0), W.value.shape(1));
  gemm(view(x), view(W), Transpose::no, view(y));
}

void linear(const Matrix& x, const Parameter& W, const Parameter& b, Matrix& y) {
  MINIMODEL_EXPECT(b.numel() == W.value.shape(1),
                   "linear: x (T, d_in) = ({}, {}), W (d_in, d_out) = ({}, {}), b (d_out,) = ({})",
                   x.shape(0), x.shape(1), W.value.shape(0), W.value.shape(1), b.numel());
  linear(x, W, y);
  const std::size_t rows = y.shape(0), cols = y.shape(1);
  const float* bias = b.data();
  const auto add_bias = [&](std::size_t t) {
    float* y_t = y.data() + t * cols;
    for (std::size_t j = 0; j < cols; ++j) y_t[j] += bias[j];
  };
  // Rows are independent: a large y is shared among the worker threads (the FFN's (T, d_ff) at
  // the GPT-2 shape: 831 -> 412 µs), each adding to whole rows exactly as one thread would. Small
  // ones stay out of OpenMP altogether (a region on one thread still costs a fraction of a µs).
  const int workers = kernels::workers_for(y.size());
  if (workers == 1) {
    for (std::size_t t = 0; t < rows; ++t) add_bias(t);
    return;
  }
#pragma omp parallel for num_threads(workers) schedule(static)
  for (std::size_t t = 0; t < rows; ++t) add_bias(t);
}

}  // namespace minimodel
