#include "minimodel/attention.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "minimodel/gelu.hpp"  // detail::exp_vectorizable
#include "minimodel/matmul.hpp"

namespace minimodel {

void softmax_rows(float* values, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = values + r * n;
    float max = row[0];
    for (std::size_t j = 1; j < n; ++j) max = std::max(max, row[j]);
    // Separate loops: the exponentials vectorise (exp(−∞) = 0 exactly), the float sum is kept
    // in order so that it does not depend on the vector width.
    for (std::size_t j = 0; j < n; ++j) row[j] = detail::exp_vectorizable(row[j] - max);
    float sum = 0.0f;
    for (std::size_t j = 0; j < n; ++j) sum += row[j];
    const float inv_sum = 1.0f / sum;
    for (std::size_t j = 0; j < n; ++j) row[j] *= inv_sum;
  }
}

CausalSelfAttention::CausalSelfAttention(ParameterRegistry& registry, std::string name,
                                         const MiniGPTConfig& config, const RotaryTable& rope)
    : name_(std::move(name)),
      n_heads_(config.n_heads()),
      d_head_(config.d_head()),
      rope_(&rope),
      // Registered in the SPEC §4 order. Init N(0, 1/d_model): std = 1/√d_model.
      W_q_(registry.add(name_ + ".W_q", {config.d_model(), config.d_model()},
                        InitRule::normal(1.0 / std::sqrt(static_cast<double>(config.d_model()))))),
      W_k_(registry.add(name_ + ".W_k", {config.d_model(), config.d_model()}, W_q_.init)),
      W_v_(registry.add(name_ + ".W_v", {config.d_model(), config.d_model()}, W_q_.init)),
      W_o_(registry.add(name_ + ".W_o", {config.d_model(), config.d_model()}, W_q_.init)) {}

namespace {

// Rows of queries handled together. Each block meets only the keys at or before its last row,
// so of the masked triangle only the part inside the diagonal block is multiplied (and then
// ignored): at most kRowBlock/2 wasted scores per row. 64 keeps a block's scores (64 × T
// floats) in cache for T up to a few thousand.
constexpr std::size_t kRowBlock = 64;

}  // namespace

void CausalSelfAttention::forward(const Matrix& x, Matrix& out, const ForwardOptions& options) const {
  Buffers buffers;
  forward(x, out, buffers, options);
}

void CausalSelfAttention::forward(const Matrix& x, Matrix& out, Buffers& b,
                                  const ForwardOptions& options) const {
  Tracer* tracer = options.tracer;
  const bool trace_values = tracer != nullptr && tracer->wants_values();
  const std::size_t T = x.shape(0), d = x.shape(1), H = n_heads_, dh = d_head_;
  const bool causal = options.causal_mask;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));

  // 1. Projections: (T, d) · (d, d) -> (T, d), no biases.
  linear(x, W_q_, b.q);
  linear(x, W_k_, b.k);
  linear(x, W_v_, b.v);
  for (const auto& projection : {std::pair{"q", &b.q}, std::pair{"k", &b.k}, std::pair{"v", &b.v}}) {
    // Named locals, not structured bindings: clang 14 cannot capture those in a lambda.
    const char* label = projection.first;
    const Matrix* m = projection.second;
    report(tracer, [&] {
      return TraceEvent{fmt::format("{}.{}", name_, label), {{T, d}, {d, d}}, "·", {T, d},
                        fmt::format("x·W_{}", label), values_for(tracer, m->data(), m->size())};
    });
  }

  // 2. RoPE on q and k of every head (v and the residual stream are never rotated).
  apply_rope(b.q, H, *rope_, options.position_offset);
  apply_rope(b.k, H, *rope_, options.position_offset);
  for (const auto& rotated : {std::pair{"q_rope", &b.q}, std::pair{"k_rope", &b.k}}) {
    const char* label = rotated.first;
    const Matrix* m = rotated.second;
    report(tracer, [&] {
      return TraceEvent{fmt::format("{}.{}", name_, label), {{T, d}}, "", {T, d},
                        fmt::format("rotate pairs (2i, 2i+1) of each head by (offset {} + t)·θ_i",
                                    options.position_offset),
                        values_for(tracer, m->data(), m->size())};
    });
  }

  // 3–4. For a tracer that wants to see them, the full (H, T, T) scores, before and after the
  //      mask. Display only: the computation below never forms the masked triangle.
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  if (trace_values) {
    b.traced.resize(H * T * T);
    for (std::size_t h = 0; h < H; ++h) {
      gemm({b.q.data() + h * dh, T, dh, d}, {b.k.data() + h * dh, T, dh, d}, Transpose::yes,
           {b.traced.data() + h * T * T, T, T, T}, scale);
    }
  }
  report(tracer, [&] {
    return TraceEvent{name_ + ".scores", {{H, T, dh}, {H, dh, T}}, "·", {H, T, T},
                      fmt::format("q·kᵀ/√{}", dh), values_for(tracer, b.traced.data(), b.traced.size())};
  });
  if (trace_values && causal) {
    for (std::size_t h = 0; h < H; ++h) {
      for (std::size_t i = 0; i < T; ++i) {
        for (std::size_t j = i + 1; j < T; ++j) b.traced[(h * T + i) * T + j] = minus_inf;
      }
    }
  }
  report(tracer, [&] {
    return TraceEvent{name_ + ".masked", {{H, T, T}}, "", {H, T, T},
                      causal ? "scores[i, j > i] = −∞" : "mask REMOVED (negative control)",
                      values_for(tracer, b.traced.data(), b.traced.size())};
  });

  // 5–6. Per head, per block of query rows [r0, r1):
  //      scores = q_h[r0:r1]·k_h[0:keys]ᵀ/√d_head, softmax over the keys each row may see,
  //      heads_h[r0:r1] = weights·v_h[0:keys].
  //      Head h is a column block of q, k, v and heads, read in place through strided views
  //      (row stride d) instead of being copied out; writing into its columns of `heads` makes
  //      the concat free. Causal: row i sees keys 0..i, so a block needs keys [0, r1) only.
  ensure_shape(b.heads, T, d);
  b.weights.resize(std::min(kRowBlock, T) * T);
  for (std::size_t h = 0; h < H; ++h) {
    const float* q_h = b.q.data() + h * dh;
    const float* k_h = b.k.data() + h * dh;
    const float* v_h = b.v.data() + h * dh;
    float* heads_h = b.heads.data() + h * dh;
    for (std::size_t r0 = 0; r0 < T; r0 += kRowBlock) {
      const std::size_t r1 = std::min(T, r0 + kRowBlock), rows = r1 - r0;
      const std::size_t keys = causal ? r1 : T;
      float* block = b.weights.data();  // (rows, keys), row stride `keys`
      gemm({q_h + r0 * d, rows, dh, d}, {k_h, keys, dh, d}, Transpose::yes, {block, rows, keys, keys}, scale);
      for (std::size_t r = 0; r < rows; ++r) {
        float* row = block + r * keys;
        // The causal mask: query r0 + r may read keys 0..r0 + r. Entries past that are set to
        // exactly 0 after the softmax, which is what exp(−∞) would give.
        const std::size_t visible = causal ? r0 + r + 1 : keys;
        softmax_rows(row, 1, visible);
        std::fill(row + visible, row + keys, 0.0f);
        if (trace_values) {
          float* full = b.traced.data() + (h * T + r0 + r) * T;
          std::copy(row, row + keys, full);
          std::fill(full + keys, full + T, 0.0f);
        }
      }
      gemm({block, rows, keys, keys}, {v_h, keys, dh, d}, Transpose::no, {heads_h + r0 * d, rows, dh, d});
    }
  }
  report(tracer, [&] {
    return TraceEvent{name_ + ".weights", {{H, T, T}}, "", {H, T, T},
                      "softmax over j (row max subtracted)",
                      values_for(tracer, b.traced.data(), b.traced.size())};
  });
  report(tracer, [&] {
    return TraceEvent{name_ + ".heads", {{H, T, T}, {H, T, dh}}, "·", {T, d},
                      "concat_h(weights_h·v_h)", values_for(tracer, b.heads.data(), b.heads.size())};
  });

  // 7. Output projection.
  linear(b.heads, W_o_, out);
  report(tracer, [&] {
    return TraceEvent{name_ + ".out", {{T, d}, {d, d}}, "·", {T, d}, "heads·W_o",
                      values_for(tracer, out.data(), out.size())};
  });
}

}  // namespace minimodel
