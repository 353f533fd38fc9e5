// The FLOP count the benchmarks divide by.
#include <catch2/catch.hpp>

#include <vector>

#include "minimodel/flops.hpp"
#include "minimodel/model.hpp"
#include "helpers.hpp"
#include "../bench/gemm_recorder.hpp"

using namespace minimodel;

TEST_CASE("forward FLOPs of the locked model at T = 8, by hand", "[flops]") {
  // Per layer, d = 64, d_ff = 256, H = 4, d_head = 16, T = 8:
  //   projections 4 · 2·8·64·64          = 262,144
  //   attention   2 · 2·16·(8·9/2)·4     =   9,216   (36 causal pairs per head, two products)
  //   FFN         2 · 2·8·64·256         = 524,288
  // two layers: 1,591,296; head 2·8·64·64 = 65,536; total 1,656,832.
  const ForwardFlops f = forward_flops(MiniGPTConfig(), 8);
  CHECK(f.projections == 2 * 262144.0);
  CHECK(f.attention == 2 * 9216.0);
  CHECK(f.ffn == 2 * 524288.0);
  CHECK(f.lm_head == 65536.0);
  CHECK(f.total() == 1656832.0);
}

TEST_CASE("forward FLOPs of the GPT-2-small shape at T = 1024, by hand", "[flops]") {
  const MiniGPTConfig gpt2({.d_model = 768, .n_heads = 12, .n_layers = 12, .d_ff = 3072,
                            .vocab_size = 50257, .context_len = 1024});
  const ForwardFlops f = forward_flops(gpt2, 1024);
  // 12 layers of: projections 4·2·1024·768² = 4,831,838,208;
  //               attention 2·2·64·(1024·1025/2)·12 = 1,612,185,600;
  //               FFN 2·2·1024·768·3072 = 9,663,676,416;
  // head 2·1024·768·50257 = 79,047,426,048.
  CHECK(f.projections == 12 * 4831838208.0);
  CHECK(f.attention == 12 * 1612185600.0);
  CHECK(f.ffn == 12 * 9663676416.0);
  CHECK(f.lm_head == 79047426048.0);
  CHECK(f.total() == 272339828736.0);
}

TEST_CASE("the products a locked forward hands to BLAS, as the benchmarks replay them", "[flops][bench]") {
  // bench/ replays what GemmRecorder (bench/gemm_recorder.hpp) saw as "the forward's products alone": check that the
  // recording is the forward's products, all of them, and nothing else.
  const MiniGPT model;
  const std::vector<TokenId> tokens = test_support::canonical();  // T = 8
  const std::size_t T = tokens.size(), d = 64, H = 4, dh = 16, d_ff = 256, V = 64;
  ForwardWorkspace workspace;
  model.forward(tokens, workspace);  // outside any recorder: not recorded anywhere

  std::vector<bench::GemmCall> calls;
  {
    bench::GemmRecorder outer;
    {
      bench::GemmRecorder inner;
      model.forward(tokens, workspace);
      calls = inner.calls();
    }
    CHECK(outer.calls().empty());  // the innermost recorder takes the calls
  }
  // Per layer: q, k, v, W_o, W_1, W_2. Then the tied head. Attention's per-head products
  // (scores and weights·v) run on libxsmm at the locked sizes (src/minimodel/attention.cpp
  // moves them to BLAS only from 64 × 64 × 64 on), not BLAS: not recorded.
  (void)H;
  (void)dh;
  REQUIRE(calls.size() == 2 * 6 + 1);
  double flops = 0;
  for (const bench::GemmCall& g : calls) flops += 2.0 * double(g.m) * double(g.n) * double(g.k);
  const ForwardFlops f = forward_flops(MiniGPTConfig(), T);
  CHECK(flops == f.projections + f.ffn + f.lm_head);
  // The first layer's order and shapes: x·W_q (T, d)·(d, d), ... heads·W_o, then the FFN.
  CHECK((calls[0].m == T && calls[0].n == d && calls[0].k == d && !calls[0].transpose_b));
  CHECK((calls[3].m == T && calls[3].n == d && calls[3].k == d && calls[3].alpha == 1.0f));  // heads·W_o
  CHECK((calls[4].m == T && calls[4].n == d_ff && calls[4].k == d));
  CHECK((calls.back().m == T && calls.back().n == V && calls.back().transpose_b));
}
