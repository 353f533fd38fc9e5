// The model's layers against hand-derived values, and their defining properties.
// Each expected number is derived in the comment beside it.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numeric>

#include "minimodel/attention.hpp"
#include "minimodel/contract.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/matmul.hpp"
#include "minimodel/ffn.hpp"
#include "minimodel/gelu.hpp"
#include "minimodel/layer_norm.hpp"
#include "minimodel/random.hpp"
#include "minimodel/rope.hpp"

using namespace minimodel;

namespace {

// fp32 arithmetic on values of order 1 carries a relative error of a few units of 2^-24
// (6e-8) per operation; these layers chain at most a few dozen operations per output, so
// 1e-6 absolute is a bound with room but still 1000x tighter than any real mistake.
constexpr double kTol = 1e-6;

Matrix matrix(std::size_t rows, std::size_t cols, std::initializer_list<float> values) {
  Matrix m({rows, cols});
  std::copy(values.begin(), values.end(), m.begin());
  return m;
}

void set(Parameter& p, std::initializer_list<float> values) {
  REQUIRE(values.size() == p.numel());
  std::copy(values.begin(), values.end(), p.value.begin());
}

struct RowStats {
  double mean, variance;
};
RowStats row_stats(const Matrix& y, std::size_t t) {
  const std::size_t d = y.shape(1);
  double sum = 0, sq = 0;
  for (std::size_t j = 0; j < d; ++j) sum += y(t, j);
  const double mean = sum / static_cast<double>(d);
  for (std::size_t j = 0; j < d; ++j) sq += (y(t, j) - mean) * (y(t, j) - mean);
  return {mean, sq / static_cast<double>(d)};
}

}  // namespace

TEST_CASE("LayerNorm of 1, 2, 3, 4 by hand", "[layers][layernorm]") {
  // mean 2.5; biased variance ((1.5² + 0.5²)·2)/4 = 1.25; y = (x − 2.5)/√(1.25 + 1e-5):
  // ±1.5/1.118038 = ±1.3416354, ±0.5/1.118038 = ±0.4472118.
  ParameterRegistry r;
  const LayerNorm ln(r, "ln", 4, 1e-5);
  Matrix y;
  NormStatistics stats;
  ln.forward(matrix(1, 4, {1, 2, 3, 4}), y, stats);
  CHECK(y(0, 0) == Approx(-1.3416354199689269).margin(kTol));
  CHECK(y(0, 1) == Approx(-0.447211806656309).margin(kTol));
  CHECK(y(0, 2) == Approx(0.447211806656309).margin(kTol));
  CHECK(y(0, 3) == Approx(1.3416354199689269).margin(kTol));
  // The statistics the backward reads are the ones this forward wrote: mean 2.5, 1/√(1.25 + 1e-5).
  REQUIRE(stats.mean.size() == 1);
  REQUIRE(stats.rstd.size() == 1);
  CHECK(stats.mean[0] == Approx(2.5).margin(kTol));
  CHECK(stats.rstd[0] == Approx(0.8944236).margin(kTol));
}

TEST_CASE("LayerNorm properties", "[layers][layernorm]") {
  ParameterRegistry r;
  const LayerNorm ln(r, "ln", 64, 1e-5);
  NormStatistics stats;
  r.initialize(1);  // gamma = 1, beta = 0
  Matrix x({3, 64});
  std::vector<float> draws(x.size());
  fill_normal(draws, 3.0, 7, "layer norm input");
  std::copy(draws.begin(), draws.end(), x.begin());
  for (std::size_t j = 0; j < 64; ++j) x(2, j) = 0.5f * static_cast<float>(j) + 100.0f;

  SECTION("gamma = 1, beta = 0 gives mean 0 and variance 1") {
    Matrix y;
    ln.forward(x, y, stats);
    for (std::size_t t = 0; t < 3; ++t) {
      const RowStats s = row_stats(y, t);
      CHECK(std::abs(s.mean) < 1e-6);
      // The variance is σ²/(σ² + eps), just under 1; σ² >= 1 for these rows, so within 1e-5.
      CHECK(s.variance == Approx(1.0).margin(2e-5));
    }
  }
  SECTION("gamma = 2, beta = 5 gives mean 5 and variance 4") {
    std::fill(r.at("ln.gamma").value.begin(), r.at("ln.gamma").value.end(), 2.0f);
    std::fill(r.at("ln.beta").value.begin(), r.at("ln.beta").value.end(), 5.0f);
    Matrix y;
    ln.forward(x, y, stats);
    for (std::size_t t = 0; t < 3; ++t) {
      const RowStats s = row_stats(y, t);
      CHECK(s.mean == Approx(5.0).margin(1e-5));
      CHECK(s.variance == Approx(4.0).margin(1e-4));
    }
  }
  SECTION("a constant row gives beta, not NaN") {
    // x − mean is exactly 0, so y = gamma·0/√eps + beta = beta: eps keeps 0/0 away.
    std::fill(r.at("ln.beta").value.begin(), r.at("ln.beta").value.end(), 0.25f);
    Matrix y;
    for (const float c : {0.0f, 7.0f, -1e4f}) {
      Matrix constant({2, 64});
      constant.fill(c);
      ln.forward(constant, y, stats);
      for (const float v : y) REQUIRE(v == 0.25f);
    }
  }
}

TEST_CASE("RoPE is the identity at position 0 and rotates by position·θ_i", "[layers][rope]") {
  // d_head = 4: pair 0 has θ_0 = 10000^0 = 1, pair 1 has θ_1 = 10000^(-2/4) = 0.01.
  const RotaryTable table(4, 8, 10000.0);
  Matrix x = matrix(2, 4, {1, 0, 1, 0,    // position 0: unchanged
                           1, 0, 0, 1});  // position 1: pair 0 turns by 1 rad, pair 1 by 0.01
  apply_rope(x, 1, table, 0);
  CHECK(x(0, 0) == 1.0f);
  CHECK(x(0, 1) == 0.0f);
  CHECK(x(0, 2) == 1.0f);
  CHECK(x(0, 3) == 0.0f);
  // (1, 0) -> (cos 1, sin 1) = (0.5403023, 0.8414710)
  CHECK(x(1, 0) == Approx(0.5403023058681398).margin(kTol));
  CHECK(x(1, 1) == Approx(0.8414709848078965).margin(kTol));
  // (0, 1) -> (−sin 0.01, cos 0.01) = (−0.0099998, 0.99995)
  CHECK(x(1, 2) == Approx(-0.009999833334166664).margin(kTol));
  CHECK(x(1, 3) == Approx(0.9999500004166653).margin(kTol));

  SECTION("the offset continues the positions: row 0 at offset 1 turns like position 1") {
    Matrix y = matrix(1, 4, {1, 0, 0, 1});
    apply_rope(y, 1, table, 1);
    CHECK(y(0, 0) == x(1, 0));
    CHECK(y(0, 3) == x(1, 3));
  }
  SECTION("positions past the table are refused") {
    Matrix y = matrix(1, 4, {1, 0, 0, 1});
    CHECK_THROWS(apply_rope(y, 1, table, 8));
  }
}

TEST_CASE("RoPE depends only on relative position: <R_m q, R_n k> = <q, R_(n-m) k>", "[layers][rope]") {
  constexpr std::size_t d_head = 16;
  const RotaryTable table(d_head, 32, 10000.0);
  std::vector<float> q(d_head), k(d_head);
  fill_normal(q, 1.0, 3, "q");
  fill_normal(k, 1.0, 3, "k");
  // Rotates a copy of v to position p (a one-row matrix at offset p).
  auto rotated = [&](const std::vector<float>& v, std::size_t p) {
    Matrix m({1, d_head});
    std::copy(v.begin(), v.end(), m.begin());
    apply_rope(m, 1, table, p);
    return m;
  };
  auto dot = [&](const Matrix& a, const Matrix& b) {
    double s = 0;
    for (std::size_t j = 0; j < d_head; ++j) s += double(a(0, j)) * double(b(0, j));
    return s;
  };
  const Matrix q0 = rotated(q, 0);
  for (auto [m, n] : {std::pair{1u, 4u}, {3u, 7u}, {5u, 5u}, {2u, 31u}}) {
    const double lhs = dot(rotated(q, m), rotated(k, n));
    const double rhs = dot(q0, rotated(k, n - m));
    // Sums of 16 products of fp32 values of order 1, each rotation adding a few ulps: 1e-5.
    CHECK(lhs == Approx(rhs).margin(1e-5));
  }
  // And it is not trivially true: moving only k changes the score.
  CHECK(std::abs(dot(q0, rotated(k, 3)) - dot(q0, rotated(k, 0))) > 1e-3);
}

TEST_CASE("GELU: exact and tanh forms by hand", "[layers][gelu]") {
  // Φ(1) = 0.5·(1 + erf(1/√2)) = 0.8413447, so GELU(1) = 0.8413447 and GELU(−1) = −0.1586553.
  CHECK(gelu_exact(1.0f) == Approx(0.8413447460685429).margin(kTol));
  CHECK(gelu_exact(-1.0f) == Approx(-0.15865525393145707).margin(kTol));
  CHECK(gelu_exact(0.0f) == 0.0f);
  // tanh form: 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.8411920
  CHECK(gelu_tanh(1.0f) == Approx(0.8411919906082768).margin(kTol));
  // Far from 0 both reduce to x (positive side) and 0 (negative side).
  CHECK(gelu_exact(10.0f) == 10.0f);
  CHECK(gelu_exact(-10.0f) == Approx(0.0).margin(1e-20));

  // The two forms stay within 1e-3 of each other everywhere, and do differ.
  double max_diff = 0;
  for (int i = -8000; i <= 8000; ++i) {
    const float x = static_cast<float>(i) * 1e-3f;
    max_diff = std::max(max_diff, double(std::abs(gelu_exact(x) - gelu_tanh(x))));
  }
  CHECK(max_diff < 1e-3);
  CHECK(max_diff > 1e-5);
}

TEST_CASE("GELU exact is accurate to about 2 ulp against double erfc", "[layers][gelu]") {
  // gelu_exact evaluates Φ through the float erfc of <cmath>; the double-precision
  // 0.5·x·erfc(−x/√2) is the truth. Bound: 2 float ulps at the scale of the result, 2·2⁻²³·
  // max(|g|, 1) — 1 + erff in float does no better (it is worse in the negative tail, where
  // 1 + erf cancels).
  double worst = 0;
  for (int i = -12000; i <= 12000; ++i) {
    const float x = static_cast<float>(i) * 1e-3f;
    const double g = 0.5 * double(x) * std::erfc(-double(x) / std::sqrt(2.0));
    const double err = std::abs(double(gelu_exact(x)) - g);
    worst = std::max(worst, err / std::max(std::abs(g), 1.0));
    REQUIRE(err <= 2.0 * 0x1p-23 * std::max(std::abs(g), 1.0));
  }
  INFO("worst error / max(|g|, 1) = " << worst);
  CHECK(worst > 0);  // not trivially equal: a different algorithm from the truth
  // Finite and exact at the extremes: GELU(x) = x far right, 0-ish far left, NaN stays NaN.
  CHECK(gelu_exact(1e4f) == 1e4f);
  CHECK(std::abs(gelu_exact(-1e4f)) < 1e-30f);
  CHECK(std::isnan(gelu_exact(std::nanf(""))));
}

TEST_CASE("softmax rows sum to 1 and turn -inf into exactly 0", "[layers][attention]") {
  constexpr float inf = std::numeric_limits<float>::infinity();
  std::vector<float> rows = {1, 2, 3, -inf,  // one masked entry
                             1000, 1000, -inf, -inf};  // huge values: max subtraction keeps exp finite
  softmax_rows(rows, 2, 4);
  CHECK(rows[3] == 0.0f);
  CHECK(rows[6] == 0.0f);
  CHECK(rows[7] == 0.0f);
  CHECK(rows[4] == 0.5f);
  // e^(1−3), e^(2−3), 1 over their sum: 0.0900306, 0.2447285, 0.6652410
  CHECK(rows[0] == Approx(0.09003057317038046).margin(kTol));
  CHECK(rows[1] == Approx(0.24472847105479764).margin(kTol));
  CHECK(rows[2] == Approx(0.6652409557748219).margin(kTol));
  CHECK(rows[0] + rows[1] + rows[2] + rows[3] == Approx(1.0).margin(kTol));
}

TEST_CASE("attention on a two-token toy by hand", "[layers][attention]") {
  // d_model = d_head = 2, one head, every W the identity, x = [[1, 0], [0, 1]].
  // Row 0 sees only itself: weights [1, 0], output v_0 = [1, 0].
  // Row 1 (position 1): q_1 = k_1 = R(1 rad)·[0, 1] = [−sin 1, cos 1]; k_0 = [1, 0].
  //   s_10 = q_1·k_0/√2 = −sin 1/√2 = −0.5950098,  s_11 = |q_1|²/√2 = 0.7071068
  //   w_10 = 1/(1 + e^(s_11 − s_10)) = 0.2138090,  w_11 = 0.7861910
  //   output row 1 = w_10·v_0 + w_11·v_1 = [0.2138090, 0.7861910]
  const MiniGPTConfig config({.d_model = 2, .n_heads = 1, .n_layers = 1, .d_ff = 4, .vocab_size = 4,
                              .context_len = 4});
  const RotaryTable rope(2, 4, 10000.0);
  ParameterRegistry r;
  const CausalSelfAttention attn(r, "attn", config, rope);
  for (const char* w : {"attn.W_q", "attn.W_k", "attn.W_v", "attn.W_o"}) set(r.at(w), {1, 0, 0, 1});

  TraceRecorder trace(true);
  Matrix out;
  attn.forward(matrix(2, 2, {1, 0, 0, 1}), out, {.tracer = &trace});
  const std::vector<float>& scores = trace.at("attn.scores").values;
  CHECK(scores[2] == Approx(-0.5950098395293859).margin(kTol));
  CHECK(scores[3] == Approx(0.7071067811865475).margin(kTol));
  const std::vector<float>& masked = trace.at("attn.masked").values;
  CHECK(masked[1] == -std::numeric_limits<float>::infinity());  // row 0 may not see position 1
  const std::vector<float>& weights = trace.at("attn.weights").values;
  CHECK(weights[0] == 1.0f);
  CHECK(weights[1] == 0.0f);  // exactly 0, not merely small
  CHECK(weights[2] == Approx(0.2138090086764157).margin(kTol));
  CHECK(weights[3] == Approx(0.7861909913235843).margin(kTol));
  CHECK(out(0, 0) == 1.0f);
  CHECK(out(0, 1) == 0.0f);
  CHECK(out(1, 0) == Approx(0.2138090086764157).margin(kTol));
  CHECK(out(1, 1) == Approx(0.7861909913235843).margin(kTol));

  SECTION("without the mask, row 0 sees position 1 (the negative control)") {
    Matrix leaky;
    attn.forward(matrix(2, 2, {1, 0, 0, 1}), leaky, {.causal_mask = false});
    CHECK(leaky(0, 1) > 0.1f);
  }
}

TEST_CASE("FFN on a toy by hand", "[layers][ffn]") {
  // W_1 = W_2 = I, b_1 = [0, −1], b_2 = [0.5, 0], x = [1, 1]:
  // pre = [1, 0]; GELU exact = [0.8413447, 0]; out = [1.3413447, 0].
  const MiniGPTConfig config({.d_model = 2, .n_heads = 1, .n_layers = 1, .d_ff = 2});
  ParameterRegistry r;
  const FeedForward ffn(r, "ffn", config);
  set(r.at("ffn.W_1"), {1, 0, 0, 1});
  set(r.at("ffn.b_1"), {0, -1});
  set(r.at("ffn.W_2"), {1, 0, 0, 1});
  set(r.at("ffn.b_2"), {0.5f, 0});
  Matrix out;
  ffn.forward(matrix(1, 2, {1, 1}), out);
  CHECK(out(0, 0) == Approx(1.3413447460685429).margin(kTol));
  CHECK(out(0, 1) == 0.0f);
}

TEST_CASE("operands of the wrong shape are refused at entry, naming the shapes (Debug and sanitizer builds)",
          "[layers][contract]") {
  if (!kContractsChecked) {
    // Release compiles the checks out (contract.hpp): nothing here could fail, so say so.
    WARN("SKIPPED: operand shape checks are compiled out of this build (NDEBUG, no sanitizer); "
         "run the debug or asan preset to test them");
    return;
  }
  ParameterRegistry r;
  const LayerNorm ln(r, "ln", 4, 1e-5);  // gamma and beta hold 4 floats
  Matrix y;
  NormStatistics stats;
  // A row of 5 would read gamma[4] and beta[4], past their end.
  CHECK_THROWS_WITH(ln.forward(matrix(1, 5, {1, 2, 3, 4, 5}), y, stats),
                    "ln: x (T, d) = (1, 5), gamma (d,) = (4), beta (d,) = (4)");
  ln.forward(matrix(1, 4, {1, 2, 3, 4}), y, stats);  // the right shape still passes

  // A bias that does not match W's output columns.
  Parameter& W = r.add("W", {2, 3}, InitRule::ones());
  Parameter& b = r.add("b", {2}, InitRule::zeros());
  CHECK_THROWS_WITH(linear(matrix(1, 2, {1, 1}), W, b, y),
                    "linear: x (T, d_in) = (1, 2), W (d_in, d_out) = (2, 3), b (d_out,) = (2)");

  // The softmax's buffer must hold rows·n floats.
  std::vector<float> values(7, 0.0f);
  CHECK_THROWS_WITH(softmax_rows(values, 2, 4), "softmax_rows: values (7) as (rows, n) = (2, 4)");
}
