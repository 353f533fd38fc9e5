// The backward of matmul.cpp's linear map y = x·W (+ b).
#include "minimodel/backward/backward.hpp"

#include "minimodel/backward/detail.hpp"
#include "minimodel/matmul.hpp"

namespace minimodel {

using namespace backward_detail;

namespace {

// db += Σ_t dy[t]: a bias is added to every row, so its gradient sums the rows.
void add_column_sums(const Matrix& dy, xt::xarray<float>& db) {
  const std::size_t T = dy.shape(0), n = dy.shape(1);
  require_size(db, n, "a bias");
  float* out = db.data();
  for (std::size_t t = 0; t < T; ++t) {
    const float* dy_t = dy.data() + t * n;
    for (std::size_t j = 0; j < n; ++j) out[j] += dy_t[j];
  }
}

}  // namespace

void linear_backward(const Matrix& x, const Parameter& W, const Matrix& dy, Matrix& dx,
                     xt::xarray<float>& dW, xt::xarray<float>* db) {
  const std::size_t T = x.shape(0), d_in = W.value.shape(0), d_out = W.value.shape(1);
  require_shape(x, T, d_in, "linear input x");
  require_shape(dy, T, d_out, "linear output gradient dy");
  require_size(dW, d_in * d_out, W.name);
  // dW (d_in, d_out) += xᵀ (d_in, T) · dy (T, d_out)
  gemm(view(x), Transpose::yes, view(dy), Transpose::no, view_of(dW), 1.0f, 1.0f);
  if (db != nullptr) add_column_sums(dy, *db);
  // dx (T, d_in) = dy (T, d_out) · Wᵀ (d_out, d_in)
  ensure_shape(dx, T, d_in);
  gemm(view(dy), view(W), Transpose::yes, view(dx));
}

}  // namespace minimodel
