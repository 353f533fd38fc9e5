#include "minimodel/attention.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "minimodel/matmul.hpp"

namespace minimodel {

void softmax_rows(float* values, std::size_t rows, std::size_t n) {
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = values + r * n;
    float max = row[0];
    for (std::size_t j = 1; j < n; ++j) max = std::max(max, row[j]);
    float sum = 0.0f;
    for (std::size_t j = 0; j < n; ++j) {
      row[j] = std::exp(row[j] - max);  // exp(-inf) = 0 exactly
      sum += row[j];
    }
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

void CausalSelfAttention::forward(const Matrix& x, Matrix& out, const ForwardOptions& options) const {
  Tracer* tracer = options.tracer;
  const std::size_t T = x.shape(0), d = x.shape(1), H = n_heads_, dh = d_head_;

  // 1. Projections: (T, d) · (d, d) -> (T, d), no biases.
  Matrix q, k, v;
  linear(x, W_q_, q);
  linear(x, W_k_, k);
  linear(x, W_v_, v);
  for (const auto& projection : {std::pair{"q", &q}, std::pair{"k", &k}, std::pair{"v", &v}}) {
    // Named locals, not structured bindings: clang 14 cannot capture those in a lambda.
    const char* label = projection.first;
    const Matrix* m = projection.second;
    report(tracer, [&] {
      return TraceEvent{fmt::format("{}.{}", name_, label), {{T, d}, {d, d}}, "·", {T, d},
                        fmt::format("x·W_{}", label), values_for(tracer, m->data(), m->size())};
    });
  }

  // 2. RoPE on q and k of every head (v and the residual stream are never rotated).
  apply_rope(q, H, *rope_, options.position_offset);
  apply_rope(k, H, *rope_, options.position_offset);
  for (const auto& rotated : {std::pair{"q_rope", &q}, std::pair{"k_rope", &k}}) {
    const char* label = rotated.first;
    const Matrix* m = rotated.second;
    report(tracer, [&] {
      return TraceEvent{fmt::format("{}.{}", name_, label), {{T, d}}, "", {T, d},
                        fmt::format("rotate pairs (2i, 2i+1) of each head by (offset {} + t)·θ_i",
                                    options.position_offset),
                        values_for(tracer, m->data(), m->size())};
    });
  }

  // 3. Scores per head: scores_h = q_h·k_hᵀ/√d_head. Head h is a column block of q and k,
  //    read in place through a strided view (row stride d) instead of being copied out.
  Matrix scores({H * T, T});  // (H, T, T) stored as H stacked (T, T) blocks
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));
  for (std::size_t h = 0; h < H; ++h) {
    const MatrixView q_h{q.data() + h * dh, T, dh, d};
    const MatrixView k_h{k.data() + h * dh, T, dh, d};
    gemm(q_h, k_h, Transpose::yes, {scores.data() + h * T * T, T, T, T}, scale);
  }
  report(tracer, [&] {
    return TraceEvent{name_ + ".scores", {{H, T, dh}, {H, dh, T}}, "·", {H, T, T},
                      fmt::format("q·kᵀ/√{}", dh), values_for(tracer, scores.data(), scores.size())};
  });

  // 4. Causal mask: query i may not see key j > i. -inf (not a large negative number) makes
  //    the masked weights exactly 0 after the softmax; the diagonal stays, so no row is empty.
  if (options.causal_mask) {
    constexpr float minus_inf = -std::numeric_limits<float>::infinity();
    for (std::size_t h = 0; h < H; ++h) {
      float* scores_h = scores.data() + h * T * T;
      for (std::size_t i = 0; i < T; ++i) {
        for (std::size_t j = i + 1; j < T; ++j) scores_h[i * T + j] = minus_inf;
      }
    }
  }
  report(tracer, [&] {
    return TraceEvent{name_ + ".masked", {{H, T, T}}, "", {H, T, T},
                      options.causal_mask ? "scores[i, j > i] = −∞" : "mask REMOVED (negative control)",
                      values_for(tracer, scores.data(), scores.size())};
  });

  // 5. Softmax over keys, in place: scores become the attention weights.
  softmax_rows(scores.data(), H * T, T);
  report(tracer, [&] {
    return TraceEvent{name_ + ".weights", {{H, T, T}}, "", {H, T, T},
                      "softmax over j (row max subtracted)",
                      values_for(tracer, scores.data(), scores.size())};
  });

  // 6. Each head's output goes straight into its column block of `heads`: the concat is free.
  Matrix heads({T, d});
  for (std::size_t h = 0; h < H; ++h) {
    const MatrixView weights_h{scores.data() + h * T * T, T, T, T};
    const MatrixView v_h{v.data() + h * dh, T, dh, d};
    gemm(weights_h, v_h, Transpose::no, {heads.data() + h * dh, T, dh, d});
  }
  report(tracer, [&] {
    return TraceEvent{name_ + ".heads", {{H, T, T}, {H, T, dh}}, "·", {T, d},
                      "concat_h(weights_h·v_h)", values_for(tracer, heads.data(), heads.size())};
  });

  // 7. Output projection.
  linear(heads, W_o_, out);
  report(tracer, [&] {
    return TraceEvent{name_ + ".out", {{T, d}, {d, d}}, "·", {T, d}, "heads·W_o",
                      values_for(tracer, out.data(), out.size())};
  });
}

}  // namespace minimodel
