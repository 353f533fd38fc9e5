// The backward of attention.cpp: W_o, the heads, the softmax, RoPE, W_q, W_k, W_v.
#include "minimodel/backward/backward.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "minimodel/attention.hpp"
#include "minimodel/backward/detail.hpp"

namespace minimodel {

using namespace backward_detail;

Matrix attention_backward(const CausalSelfAttention& attn, const AttentionActivations& kept, const Matrix& dout,
                          Gradients& grads, const BackwardOptions& options) {
  const Matrix& x = kept.input;  // LN1's output
  const std::size_t T = dout.shape(0), d = dout.shape(1);
  const std::size_t dh = attn.rope().d_head(), H = d / dh;
  const std::string& name = attn.name();
  require_shape(x, T, d, name + " input (kept)");
  const Matrix& q = kept.q_rope;  // rotated: what the scores used
  const Matrix& k = kept.k_rope;
  const Matrix& v = kept.v;
  const Matrix& P = kept.weights;  // head h: rows [h·T, (h+1)·T)
  const Matrix& heads = kept.heads;
  require_shape(q, T, d, name + ".q_rope (kept)");
  require_shape(k, T, d, name + ".k_rope (kept)");
  require_shape(v, T, d, name + ".v (kept)");
  require_shape(P, H * T, T, name + ".weights (kept)");
  require_shape(heads, T, d, name + ".heads (kept)");
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));

  // out = heads·W_o
  Matrix d_heads;
  linear_backward(heads, attn.W_o(), dout, d_heads, grads.at(attn.W_o().name), nullptr);

  // Per head h (column block h of q, k, v, heads, read through strided views as the forward
  // does): heads_h = P_h·v_h, P_h = softmax(S_h), S_h = scale·q_h·k_hᵀ.
  Matrix dq({T, d}), dk({T, d}), dv({T, d});
  std::vector<float> dS(T * T);  // dP, then dS in place, (T, T)
  for (std::size_t h = 0; h < H; ++h) {
    const float* P_h = P.data() + h * T * T;
    const MatrixView d_heads_h{d_heads.data() + h * dh, T, dh, d};
    // dv_h (T, dh) = P_hᵀ (T, T) · d_heads_h (T, dh)
    gemm({P_h, T, T, T}, Transpose::yes, d_heads_h, Transpose::no, {dv.data() + h * dh, T, dh, d},
            1.0f, 0.0f);
    // dP_h (T, T) = d_heads_h (T, dh) · v_hᵀ (dh, T)
    gemm(d_heads_h, {v.data() + h * dh, T, dh, d}, Transpose::yes, {dS.data(), T, T, T});
    // Softmax backward, row i: dS_ij = P_ij·(dP_ij − Σ_k P_ik·dP_ik) over the keys row i could
    // see. The masked entries (j > i) are set to exactly 0, never computed from dP: a query
    // sends no gradient to a key it never read, so causality holds bit for bit.
    for (std::size_t i = 0; i < T; ++i) {
      const std::size_t visible = options.causal_mask ? i + 1 : T;
      const float* P_i = P_h + i * T;
      float* row = dS.data() + i * T;
      float dot = 0.0f;
      for (std::size_t j = 0; j < visible; ++j) dot += P_i[j] * row[j];
      for (std::size_t j = 0; j < visible; ++j) row[j] = P_i[j] * (row[j] - dot);
      for (std::size_t j = visible; j < T; ++j) row[j] = 0.0f;
    }
    // S = scale·q_h·k_hᵀ:  dq_h = scale·dS·k_h,  dk_h = scale·dSᵀ·q_h
    gemm({dS.data(), T, T, T}, {k.data() + h * dh, T, dh, d}, Transpose::no,
         {dq.data() + h * dh, T, dh, d}, scale);
    gemm({dS.data(), T, T, T}, Transpose::yes, {q.data() + h * dh, T, dh, d}, Transpose::no,
            {dk.data() + h * dh, T, dh, d}, scale, 0.0f);
  }

  // q and k were rotated after the projections: rotate their gradients back.
  rope_backward(dq, H, attn.rope(), options.position_offset);
  rope_backward(dk, H, attn.rope(), options.position_offset);

  // q, k, v = x·W_q, x·W_k, x·W_v: x feeds all three, so dx is the sum of three products.
  Matrix dx, dx_part;
  linear_backward(x, attn.W_q(), dq, dx, grads.at(attn.W_q().name), nullptr);
  linear_backward(x, attn.W_k(), dk, dx_part, grads.at(attn.W_k().name), nullptr);
  add_into(dx, dx_part);
  linear_backward(x, attn.W_v(), dv, dx_part, grads.at(attn.W_v().name), nullptr);
  add_into(dx, dx_part);
  return dx;
}

}  // namespace minimodel
