// Attention's per-head products on libxsmm and on OpenBLAS, side by side in one run, at the
// shapes the forward makes: for a block of `rows` queries against `keys` keys of one head of
// width d_head, the scores q_h·k_hᵀ (rows, keys, inner d_head) and the weighted sum
// weights·v_h (rows, d_head, inner keys), read in place with the row stride of the (T, d_model)
// buffers. libxsmm takes no transposed operand: its score product reads k_hᵀ copied once per
// head (libxsmm_otrans, timed apart as "transpose"); OpenBLAS either reads k_h transposed in place
// or, as the forward has it, the same copy (made by OpenBLAS's omatcopy).
// One OpenBLAS thread. The threshold in src/minimodel/attention.cpp (kBlasWork) quotes these.
//   build-bench/bin/minimodel_small_products --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <cblas.h>  // openblas_set_num_threads

#include <cstddef>
#include <vector>

#include "minimodel/kernels/small_gemm.hpp"
#include "minimodel/matmul.hpp"

namespace {

struct Shape {
  std::size_t rows, keys, d_head, d_model;
};

Shape shape_of(const benchmark::State& state) {
  const auto at = [&](int i) { return static_cast<std::size_t>(state.range(i)); };
  return {at(0), at(1), at(2), at(3)};
}

// q, k, v as (keys, d_model) buffers, head 0's columns used; the scores block (rows, keys).
struct Operands {
  explicit Operands(const Shape& s)
      : q(s.keys * s.d_model, 0.25f), k(s.keys * s.d_model, 0.5f), v(s.keys * s.d_model, 0.75f),
        k_t(s.d_head * s.keys, 0.5f), block(s.rows * s.keys, 1.0f / static_cast<float>(s.keys)),
        out(s.keys * s.d_model) {}
  std::vector<float> q, k, v, k_t, block, out;
};

// Times `product(shape, operands)` on one OpenBLAS thread.
template <class Product>
void run(benchmark::State& state, Product product) {
  openblas_set_num_threads(1);
  const Shape s = shape_of(state);
  Operands o(s);
  for (auto _ : state) {
    product(s, o);
    benchmark::ClobberMemory();
  }
}

using minimodel::Transpose;

void scores_libxsmm(benchmark::State& state) {
  run(state, [](const Shape& s, Operands& o) {
    minimodel::kernels::small_gemm(s.rows, s.keys, s.d_head, o.q.data(), s.d_model, o.k_t.data(), s.keys,
                                   o.block.data(), s.keys);
  });
}

void scores_blas(benchmark::State& state) {  // k_h read transposed in place
  run(state, [](const Shape& s, Operands& o) {
    minimodel::gemm({o.q.data(), s.rows, s.d_head, s.d_model}, {o.k.data(), s.keys, s.d_head, s.d_model},
                    Transpose::yes, {o.block.data(), s.rows, s.keys, s.keys});
  });
}

void scores_blas_kt(benchmark::State& state) {  // on k_hᵀ copied, as libxsmm reads it
  run(state, [](const Shape& s, Operands& o) {
    minimodel::gemm({o.q.data(), s.rows, s.d_head, s.d_model}, {o.k_t.data(), s.d_head, s.keys, s.keys},
                    Transpose::no, {o.block.data(), s.rows, s.keys, s.keys});
  });
}

void weighted_libxsmm(benchmark::State& state) {
  run(state, [](const Shape& s, Operands& o) {
    minimodel::kernels::small_gemm(s.rows, s.d_head, s.keys, o.block.data(), s.keys, o.v.data(), s.d_model,
                                   o.out.data(), s.d_model);
  });
}

void weighted_blas(benchmark::State& state) {
  run(state, [](const Shape& s, Operands& o) {
    minimodel::gemm({o.block.data(), s.rows, s.keys, s.keys}, {o.v.data(), s.keys, s.d_head, s.d_model},
                    Transpose::no, {o.out.data(), s.rows, s.d_head, s.d_model});
  });
}

// The score products need k_hᵀ: one copy per head of all its keys (keys, d_head), on libxsmm
// or on OpenBLAS's omatcopy (minimodel::transpose).
void transpose_libxsmm(benchmark::State& state) {
  run(state, [](const Shape& s, Operands& o) {
    minimodel::kernels::transpose(o.k.data(), s.keys, s.d_head, s.d_model, o.k_t.data(), s.keys);
  });
}

void transpose_blas(benchmark::State& state) {
  run(state, [](const Shape& s, Operands& o) {
    minimodel::transpose({o.k.data(), s.keys, s.d_head, s.d_model}, {o.k_t.data(), s.d_head, s.keys, s.keys});
  });
}

// {rows, keys, d_head, d_model}: the locked config's (T = 8, 32: the first and only block is
// T × T), then the GPT-2-small shape's first blocks at T = 8, 16, 32, 64 and a block of 64
// queries against 128 to 1024 keys.
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "keys", "dh", "d"});
  for (long T : {8, 32}) b->Args({T, T, 16, 64});
  for (long T : {8, 16, 32, 64}) b->Args({T, T, 64, 768});
  for (long keys : {128, 256, 512, 1024}) b->Args({64, keys, 64, 768});
}

BENCHMARK(scores_libxsmm)->Apply(shapes);
BENCHMARK(scores_blas)->Apply(shapes);
BENCHMARK(scores_blas_kt)->Apply(shapes);
BENCHMARK(weighted_libxsmm)->Apply(shapes);
BENCHMARK(weighted_blas)->Apply(shapes);
BENCHMARK(transpose_libxsmm)->Apply(shapes);
BENCHMARK(transpose_blas)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
