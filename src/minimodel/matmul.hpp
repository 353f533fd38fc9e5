#pragma once
// Matrix products on OpenBLAS, into buffers the caller owns. Every product of the model goes
// through here. Layout convention: a linear map is y = x·W + b with W of shape (d_in, d_out),
// row-major, exactly as the parameters are stored and saved.
#include <cstddef>

#include "minimodel/registry.hpp"
#include "minimodel/tensor.hpp"

namespace minimodel {

// A row-major matrix inside a larger buffer: `rows` × `cols`, consecutive rows `stride`
// floats apart. One head's column block of q, k or v is such a view, with stride d_model.
struct MatrixView {
  const float* data;
  std::size_t rows, cols, stride;
};
struct MutableMatrixView {
  float* data;
  std::size_t rows, cols, stride;
};

inline MatrixView view(const Matrix& m) { return {m.data(), m.shape(0), m.shape(1), m.shape(1)}; }
inline MutableMatrixView view(Matrix& m) { return {m.data(), m.shape(0), m.shape(1), m.shape(1)}; }
inline MatrixView view(const Parameter& p) {
  return {p.data(), p.value.shape(0), p.value.shape(1), p.value.shape(1)};
}

enum class Transpose { no, yes };

// c = alpha · a · op(b), where op(b) is b or bᵀ. Shapes are checked: a mismatch is an Error.
void gemm(MatrixView a, MatrixView b, Transpose transpose_b, MutableMatrixView c, float alpha = 1.0f);

// c = alpha · op(a) · op(b) + beta · c: the general product. The backward needs it (weight
// gradients are xᵀ·dy, and they accumulate with beta = 1), and so does the attention's weighted
// sum on OpenBLAS, which adds up its pieces of keys (attention.cpp).
void gemm(MatrixView a, Transpose transpose_a, MatrixView b, Transpose transpose_b, MutableMatrixView c,
          float alpha, float beta);

// out = aᵀ: a (rows, cols) -> out (cols, rows), both with their row strides. OpenBLAS's
// omatcopy (an extension of CBLAS): 14 µs for a (1024, 64) head of a (1024, 768) buffer, where a
// plain double loop takes 190 µs (its writes stride through memory).
void transpose(MatrixView a, MutableMatrixView out);

// y = x·W: (T, d_in) · (d_in, d_out) -> (T, d_out). Resizes y when needed.
void linear(const Matrix& x, const Parameter& W, Matrix& y);
// y = x·W + b, with b of shape (d_out,) added to every row.
void linear(const Matrix& x, const Parameter& W, const Parameter& b, Matrix& y);

}  // namespace minimodel
