#include "minimodel/attention.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <omp.h>

#include "minimodel/contract.hpp"
#include "minimodel/kernels/simd_math.hpp"  // kernels::exp_shifted_inplace
#include "minimodel/matmul.hpp"
#include "minimodel/kernels/small_gemm.hpp"

namespace minimodel {

void softmax_rows(std::span<float> values, std::size_t rows, std::size_t n) {
  MINIMODEL_EXPECT(n >= 1 && values.size() == rows * n,
                   "softmax_rows: values ({}) as (rows, n) = ({}, {})",
                   values.size(), rows, n);
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = values.data() + r * n;
    const float max = kernels::max_of(row, n);
    // row[j] = e^(row[j] − max) (exp(−∞) = 0 exactly), and their sum, vectorised.
    const float sum = kernels::exp_shifted_inplace(row, n, max);
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
      // Registered in the order of CONVENTIONS.md §9. Init N(0, 1/d_model): std = 1/√d_model.
      W_q_(registry.add(name_ + ".W_q", {config.d_model(), config.d_model()},
                        InitRule::normal(1.0 / std::sqrt(static_cast<double>(config.d_model()))))),
      W_k_(registry.add(name_ + ".W_k", {config.d_model(), config.d_model()}, W_q_.init)),
      W_v_(registry.add(name_ + ".W_v", {config.d_model(), config.d_model()}, W_q_.init)),
      W_o_(registry.add(name_ + ".W_o", {config.d_model(), config.d_model()}, W_q_.init)),
      scores_formula_(fmt::format("q·kᵀ/√{}", d_head_)) {}

namespace {

// Rows of queries handled together. Each block meets only the keys at or before its last row,
// so of the masked triangle only the part inside the diagonal block is multiplied (and then
// ignored): at most kRowBlock/2 wasted scores per row. 64 keeps a block's scores (64 × T
// floats) in cache for T up to a few thousand.
constexpr std::size_t kRowBlock = 64;

constexpr float kInfinity = std::numeric_limits<float>::infinity();

// Copies a (rows, keys) block of head h, query rows from r0, into an (H, T, T) buffer (a
// tracer's, or the activation record's): the picture is assembled from the blocks the forward used.
void keep_block(const float* block, std::size_t rows, std::size_t keys, float* traced, std::size_t h,
                std::size_t r0, std::size_t T) {
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy(block + r * keys, block + (r + 1) * keys, traced + (h * T + r0 + r) * T);
  }
}

// Which library multiplies a head's blocks. libxsmm is faster for the small products and never
// slower (bench/small_products.cpp, one thread, medians of 5, at load 1.4: 8×8×16 scores 66 vs
// 168 ns on OpenBLAS, 32×32×16 335 vs 377 ns, 32×32×64 1.18 vs 1.23 µs), but its code
// registry costs about 11 MB resident from its first call (libxsmm_init), more than a
// GPT-2-sized forward can afford within its memory target (issue 16). From 64×64×64 on the two
// tie: 4.61 µs on libxsmm, 4.62 µs on OpenBLAS for q_h·k_hᵀ with k_hᵀ copied, 4.71 vs 4.64 µs
// for weights·v_h. So a forward whose first (causal) block reaches kBlasWork multiply-adds,
// the GPT-2 shape from T = 64 on, multiplies on OpenBLAS and never initialises libxsmm
// (CausalSelfAttention::kBlasWork = 64·64·64, attention.hpp, where the benchmark reads it).
// Beyond 64 keys OpenBLAS falls behind (64×256×64: 18.4 µs on libxsmm, 22.7 on OpenBLAS;
// 64×1024×64: 76 vs 119 µs), and above 4·65536 multiply-adds it would start its own threads,
// which calls from inside the heads' parallel region must not (OpenBLAS runs a product of at most
// GEMM_MULTITHREAD_THRESHOLD × 65536 multiply-adds on the calling thread; Debian builds it with
// the default 4). So on OpenBLAS a block is multiplied in pieces of keys, each at most that size.
constexpr std::size_t kBlasOneThread = 4 * 65536;

// Attention's per-head work on the library chosen above for the forward's size: k_h's
// transpose, the scores of a block of query rows and their weighted sum of v_h. Head h is a
// column block of q, k, v and heads (row stride d); k_t is k_hᵀ in a scratch buffer (row stride T).
class HeadProducts {
 public:
  HeadProducts(std::size_t T, std::size_t d, std::size_t dh, std::size_t first_rows)
      : T_(T), d_(d), dh_(dh), on_blas_(first_rows * first_rows * dh >= CausalSelfAttention::kBlasWork),
        piece_(std::max<std::size_t>(1, kBlasOneThread / (first_rows * dh))) {}

  // k_t (dh, T) = k_hᵀ: neither library is given a transposed operand.
  void transpose_k(const float* k_h, float* k_t) const {
    if (on_blas_) {
      transpose({k_h, T_, dh_, d_}, {k_t, dh_, T_, T_});
    } else {
      kernels::transpose(k_h, T_, dh_, d_, k_t, T_);
    }
  }
  // block (rows, keys) = q_h[rows] · k_t[:, 0:keys], row stride keys.
  void scores(const float* q_rows, const float* k_t, float* block, std::size_t rows, std::size_t keys) const {
    if (!on_blas_) return product(q_rows, d_, k_t, T_, block, keys, rows, keys, dh_);
    for (std::size_t j0 = 0; j0 < keys; j0 += piece_) {  // each piece a column block of the scores
      const std::size_t n = std::min(piece_, keys - j0);
      gemm({q_rows, rows, dh_, d_}, {k_t + j0, dh_, n, T_}, Transpose::no, {block + j0, rows, n, keys});
    }
  }
  // heads_h[rows] (rows, dh) = block (rows, keys) · v_h[0:keys].
  void weighted(const float* block, const float* v_h, float* heads_rows, std::size_t rows, std::size_t keys) const {
    if (!on_blas_) return product(block, keys, v_h, d_, heads_rows, d_, rows, dh_, keys);
    for (std::size_t j0 = 0; j0 < keys; j0 += piece_) {  // the pieces' products summed
      const std::size_t n = std::min(piece_, keys - j0);
      gemm({block + j0, rows, n, keys}, Transpose::no, {v_h + j0 * d_, n, dh_, d_}, Transpose::no,
           {heads_rows, rows, dh_, d_}, 1.0f, j0 == 0 ? 0.0f : 1.0f);
    }
  }

 private:
  // c (rows, n) = a (rows, k) · b (k, n), row-major with the given row strides: on libxsmm
  // (kernels/small_gemm.hpp), or on BLAS when libxsmm has no kernel for the shape.
  static void product(const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c,
                      std::size_t ldc, std::size_t rows, std::size_t n, std::size_t k) {
    if (!kernels::small_gemm(rows, n, k, a, lda, b, ldb, c, ldc)) {
      gemm({a, rows, k, lda}, {b, k, n, ldb}, Transpose::no, {c, rows, n, ldc});
    }
  }

  std::size_t T_, d_, dh_;
  bool on_blas_;        // from kBlasWork multiply-adds a block on
  std::size_t piece_;   // keys per OpenBLAS call, so that each runs on the calling thread
};

// Heads run in parallel (one per worker thread at a time) when there is enough work to pay for
// the threads: the GPT-2-small shape at T = 128 has 12 heads of 64 × 128 × 64 products.
constexpr std::size_t kParallelWork = 1u << 18;  // multiply-adds of one head's score products

std::string rope_formula(std::size_t position_offset) {
  return fmt::format("rotate pairs (2i, 2i+1) of each head by (offset {} + t)·θ_i", position_offset);
}

}  // namespace

void CausalSelfAttention::forward(const Matrix& x, Matrix& out, const ForwardOptions& options) const {
  Buffers buffers;
  forward(x, out, buffers, options);
}

void CausalSelfAttention::forward(const Matrix& x, Matrix& out, Buffers& b,
                                  const ForwardOptions& options) const {
  const TraceScope tracing(options.tracer);  // when called on its own (labs, tests)
  const bool trace_values = tracer_wants_values();
  const std::size_t T = x.shape(0), d = x.shape(1), H = n_heads_, dh = d_head_;
  const bool causal = options.causal_mask;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));
  MINIMODEL_EXPECT(T >= 1 && d == H * dh && W_q_.value.shape(0) == d,
                   "{}: x (T, d_model) = ({}, {}), W_q (d_model, d_model) = ({}, {}), {} heads of d_head {}",
                   name_, T, d, W_q_.value.shape(0), W_q_.value.shape(1), H, dh);

  // 1. Projections: (T, d) · (d, d) -> (T, d), no biases. Into the Matrices b.q, b.k, b.v, which
  //    the trace and the record read, or into memory the caller lent (attention.hpp), where
  //    nothing reads them but this function.
  AttentionActivations* const keep = b.keep;
  const bool lent = b.lent != nullptr && b.lent_floats >= 3 * T * d && keep == nullptr &&
                    active_tracer() == nullptr;
  if (!lent) {
    for (Matrix* m : {&b.q, &b.k, &b.v}) ensure_shape(*m, T, d);
  }
  float* const q = lent ? b.lent : b.q.data();
  float* const k = lent ? b.lent + T * d : b.k.data();
  float* const v = lent ? b.lent + 2 * T * d : b.v.data();
  // (When lent, no tracer listens: trace_op returns before it looks at b.q, b.k, b.v.)
  gemm(view(x), view(W_q_), Transpose::no, {q, T, d, d});
  trace_op(name_, "q", {x, W_q_}, "·", b.q, "x·W_q");
  gemm(view(x), view(W_k_), Transpose::no, {k, T, d, d});
  trace_op(name_, "k", {x, W_k_}, "·", b.k, "x·W_k");
  gemm(view(x), view(W_v_), Transpose::no, {v, T, d, d});
  trace_op(name_, "v", {x, W_v_}, "·", b.v, "x·W_v");

  // 2. RoPE on q and k of every head (v and the residual stream are never rotated).
  const std::string rope_text = active_tracer() != nullptr ? rope_formula(options.position_offset) : "";
  apply_rope({q, T * d}, d, H, *rope_, options.position_offset);
  trace_op(name_, "q_rope", {b.q}, "", b.q, rope_text);
  apply_rope({k, T * d}, d, H, *rope_, options.position_offset);
  trace_op(name_, "k_rope", {b.k}, "", b.k, rope_text);

  // 3–6. Per head, per block of query rows [r0, r1):
  //      scores  = q_h[r0:r1]·k_h[0:keys]ᵀ/√d_head          (rows, keys)
  //      masked  = scores with key j > query i set to −∞     the causal mask
  //      weights = softmax over the keys                     −∞ becomes exactly 0
  //      heads_h[r0:r1] = weights·v_h[0:keys]
  //      Head h is a column block of q, k, v and heads, read in place through strided views
  //      (row stride d) instead of being copied out; writing into its columns of `heads` makes
  //      the concat free. With the mask, a block of queries ends at row r1 − 1, so the keys
  //      from r1 on are all in its future: they are not computed at all, which gives what
  //      exp(−∞) = 0 would give. A tracer that wants the full (H, T, T) picture gets them
  //      computed and masked like the rest (keys = T): the weights come out identical. So does an
  //      activation record, which keeps the weights for the backward.
  //      The products run on libxsmm (kernels/small_gemm.hpp) or, from kBlasWork multiply-adds
  //      on, on OpenBLAS in pieces of keys (HeadProducts, with the measurements at kBlasWork),
  //      each head's k_h first copied transposed, (d_head, T), into a scratch buffer.
  //      With several OpenBLAS threads and enough work, the heads are shared among as many
  //      OpenMP threads, each with its own block and scratch buffers.
  //      Unless the activation record keeps q, heads_h[r0:r1] is written over q_h[r0:r1], which
  //      no later block reads (block r0 is the last to read those rows of q): the heads need no
  //      (T, d) buffer of their own, 3 MiB at the GPT-2 shape and T = 1024.
  if (keep != nullptr) ensure_shape(b.heads, T, d);
  const Matrix& heads = keep != nullptr ? b.heads : b.q;  // what the trace reads (never lent then)
  float* const heads_data = keep != nullptr ? b.heads.data() : q;
  const bool parallel = !trace_values && T * T * dh / 2 >= kParallelWork;
  const int workers = parallel ? std::max(1, std::min(kernels::worker_threads(), static_cast<int>(H))) : 1;
  const std::size_t first_rows = std::min(kRowBlock, T);
  const HeadProducts products(T, d, dh, first_rows);
  const std::size_t block_floats = first_rows * T;
  b.weights.resize(static_cast<std::size_t>(workers) * block_floats);
  b.k_transposed.resize(static_cast<std::size_t>(workers) * dh * T);
  if (trace_values) {
    for (std::vector<float>* traced : {&b.traced_scores, &b.traced_masked, &b.traced_weights}) {
      traced->resize(H * T * T);
    }
  }
  if (keep != nullptr) ensure_shape(keep->weights, H * T, T);
  const bool all_keys = trace_values || keep != nullptr;  // the full (H, T, T) picture is wanted
#pragma omp parallel for num_threads(workers) schedule(static, 1) if (workers > 1)
  for (std::size_t h = 0; h < H; ++h) {
    const std::size_t worker = workers > 1 ? static_cast<std::size_t>(omp_get_thread_num()) : 0;
    const float* q_h = q + h * dh;
    const float* k_h = k + h * dh;
    const float* v_h = v + h * dh;
    float* heads_h = heads_data + h * dh;
    float* k_t = b.k_transposed.data() + worker * dh * T;  // (dh, T), row stride T
    products.transpose_k(k_h, k_t);
    for (std::size_t r0 = 0; r0 < T; r0 += kRowBlock) {
      const std::size_t r1 = std::min(T, r0 + kRowBlock), rows = r1 - r0;
      const std::size_t keys = causal && !all_keys ? r1 : T;
      float* block = b.weights.data() + worker * block_floats;  // (rows, keys), row stride `keys`
      products.scores(q_h + r0 * d, k_t, block, rows, keys);
      for (std::size_t i = 0; i < rows * keys; ++i) block[i] *= scale;
      if (trace_values) keep_block(block, rows, keys, b.traced_scores.data(), h, r0, T);
      if (causal) {
        for (std::size_t r = 0; r < rows; ++r) {
          // The causal mask: query i = r0 + r may read keys 0..i; the diagonal is never masked.
          for (std::size_t j = r0 + r + 1; j < keys; ++j) block[r * keys + j] = -kInfinity;
        }
      }
      if (trace_values) keep_block(block, rows, keys, b.traced_masked.data(), h, r0, T);
      softmax_rows({block, rows * keys}, rows, keys);
      if (trace_values) keep_block(block, rows, keys, b.traced_weights.data(), h, r0, T);
      if (keep != nullptr) keep_block(block, rows, keys, keep->weights.data(), h, r0, T);
      products.weighted(block, v_h, heads_h + r0 * d, rows, keys);
    }
  }
  if (active_tracer() != nullptr) {  // the (H, T, T) shapes below are vectors: built only for a tracer
    const Shape all_heads{H, T, T};
    const Operand weights_operand(all_heads);
    trace_op(name_, "scores", {Operand::heads(b.q, H), Operand::heads(b.k, H, true)}, "·", b.traced_scores,
             all_heads, scores_formula_);
    trace_op(name_, "masked", {weights_operand}, "", b.traced_masked, all_heads,
             causal ? "scores[i, j > i] = −∞" : "mask REMOVED (negative control)");
    trace_op(name_, "weights", {weights_operand}, "", b.traced_weights, all_heads,
             "softmax over j (row max subtracted)");
    trace_op(name_, "heads", {weights_operand, Operand::heads(b.v, H)}, "·", heads, "concat_h(weights_h·v_h)");
  }

  // 7. Output projection.
  ensure_shape(out, T, d);
  gemm({heads_data, T, d, d}, view(W_o_), Transpose::no, view(out));
  trace_op(name_, "out", {heads, W_o_}, "·", out, "heads·W_o");

  if (keep != nullptr) {  // copies into buffers that keep their memory from one forward to the next
    keep->input = x;
    keep->q_rope = b.q;
    keep->k_rope = b.k;
    keep->v = b.v;
    keep->heads = b.heads;
  }
}

}  // namespace minimodel
