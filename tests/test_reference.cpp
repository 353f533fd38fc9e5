// The hand-made reference (reference.hpp) against values derived with pencil and paper.
//
// The reference is the yardstick the fast model is measured with, so it is itself checked
// against something that is not code: every expected value below carries its derivation.
// The toys use d_model 4 and d_head 2 (one RoPE pair per head, theta_0 = base^0 = 1, so the
// angle at position p is p radians) and weights that are 0, 1 or the identity.
//
// Expected values are written as the closed-form expressions of their derivation, evaluated
// in double; the reference also computes in double, so the two agree to a few units in the
// last place. kExact = 1e-12 leaves room for that (values are O(1), double has u = 1.1e-16)
// while catching any wrong convention, which moves a value by 1e-6 (eps) or far more.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/reference.hpp"

namespace {

using namespace minimodel;
namespace ref = minimodel::reference;

constexpr double kExact = 1e-12;
constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
constexpr double kEps = 1e-5;  // LayerNorm eps (CONVENTIONS.md §3), the config's default

// 1/sqrt(1 + eps): what LayerNorm (gamma 1, beta 0) multiplies a row of mean 0 and biased
// variance 1 by, e.g. [1, -1, 1, -1] or [1, 1, -1, -1].
const double s = 1.0 / std::sqrt(1.0 + kEps);

// The toy of lab 00 (CONVENTIONS.md §12.0): d_model 4, 2 heads of d_head 2.
MiniGPTConfig toy_config(std::int64_t d_ff = 4, GeluForm gelu = GeluForm::exact) {
  return MiniGPTConfig(ConfigValues{.d_model = 4,
                                    .n_heads = 2,
                                    .n_layers = 1,
                                    .d_ff = d_ff,
                                    .vocab_size = 8,
                                    .context_len = 4,
                                    .gelu = gelu});
}

// Overwrites a parameter with hand-chosen values (row-major, (d_in, d_out) for linear maps).
void set(MiniGPT& model, const std::string& name, const std::vector<float>& values) {
  Parameter& p = model.parameters().at(name);
  REQUIRE(p.numel() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) p.data()[i] = values[i];
}

std::vector<float> identity(std::size_t n) {
  std::vector<float> m(n * n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) m[i * n + i] = 1.0f;
  return m;
}

std::vector<float> filled(std::size_t n, float value) { return std::vector<float>(n, value); }

ref::Tensor ref_matrix(std::size_t rows, std::size_t cols, std::vector<double> values) {
  return ref::Tensor{{rows, cols}, std::move(values)};
}

// Every entry of `actual` against `expected` (same shape); -inf must match exactly.
void check_tensor(const ref::Tensor& actual, const std::vector<std::size_t>& shape,
                  const std::vector<double>& expected, double tol = kExact) {
  REQUIRE(actual.shape == shape);
  REQUIRE(actual.data.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("flat index " << i << ": reference " << actual.data[i] << ", expected " << expected[i]);
    if (std::isinf(expected[i])) {
      CHECK(actual.data[i] == expected[i]);
    } else {
      const double diff = std::abs(actual.data[i] - expected[i]);
      CHECK(diff <= tol);  // NaN fails
    }
  }
}

// The toy block: weights as in the derivation of "a toy block, every step by hand".
MiniGPT toy_block_model(GeluForm gelu = GeluForm::exact) {
  MiniGPT model(toy_config(4, gelu), 7);
  // ln1: gamma 1, beta 0 (the init). Projections are the identity, so q = k = v = LN1(x)
  // and out = heads.
  set(model, "block_0.ln1.gamma", filled(4, 1.0f));
  set(model, "block_0.ln1.beta", filled(4, 0.0f));
  for (const char* name : {"block_0.attn.W_q", "block_0.attn.W_k", "block_0.attn.W_v",
                           "block_0.attn.W_o"}) {
    set(model, name, identity(4));
  }
  // ln2: gamma 0 turns LN2 into the constant beta = [1, -1, 2, 0] (exactly), so the FFN's
  // input, and with W_1 = I, b_1 = 0 its pre-activation, are the GELU arguments 1, -1, 2, 0.
  set(model, "block_0.ln2.gamma", filled(4, 0.0f));
  set(model, "block_0.ln2.beta", {1.0f, -1.0f, 2.0f, 0.0f});
  set(model, "block_0.ffn.W_1", identity(4));
  set(model, "block_0.ffn.b_1", filled(4, 0.0f));
  set(model, "block_0.ffn.W_2", identity(4));
  set(model, "block_0.ffn.b_2", {0.0f, 0.0f, 0.0f, 0.5f});
  return model;
}

// x rows: [1, -1, 1, -1] and [1, 1, -1, -1], both mean 0 and biased variance 1.
const ref::Tensor kToyX = ref_matrix(2, 4, {1, -1, 1, -1, 1, 1, -1, -1});

}  // namespace

TEST_CASE("reference GELU matches the normal CDF table and the tanh formula", "[reference]") {
  // Exact: GELU(x) = x·Φ(x). Φ(1) = 0.8413447460685429 and Φ(2) = 0.9772498680518208 are the
  // standard normal table values; Φ(-1) = 1 - Φ(1).
  CHECK(std::abs(ref::gelu(1.0, GeluForm::exact) - 0.8413447460685429) <= kExact);
  CHECK(std::abs(ref::gelu(-1.0, GeluForm::exact) - -(1.0 - 0.8413447460685429)) <= kExact);
  CHECK(std::abs(ref::gelu(2.0, GeluForm::exact) - 2.0 * 0.9772498680518208) <= kExact);
  CHECK(ref::gelu(0.0, GeluForm::exact) == 0.0);
  // tanh: 0.5·1·(1 + tanh(√(2/π)·(1 + 0.044715))) = 0.5·(1 + tanh(0.833562...)),
  // = 0.8411919906082768 (python3: 0.5*(1+math.tanh(math.sqrt(2/math.pi)*1.044715))).
  // It sits 1.5e-4 below the exact value, as the approximation is known to.
  CHECK(std::abs(ref::gelu(1.0, GeluForm::tanh) - 0.8411919906082768) <= kExact);
  // At -1: -0.5·(1 - tanh(0.833562...)) = -0.15880800939172324 (same python expression).
  CHECK(std::abs(ref::gelu(-1.0, GeluForm::tanh) - -0.15880800939172324) <= kExact);
}

TEST_CASE("reference LayerNorm: biased variance, eps inside the square root", "[reference]") {
  // [1, 2, 3, 4]: mean 2.5; deviations -1.5 -0.5 0.5 1.5; biased variance
  // (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25 (dividing by 3 would give 1.6667).
  const double inv_std = 1.0 / std::sqrt(1.25 + kEps);
  const ref::Tensor x = ref_matrix(1, 4, {1, 2, 3, 4});
  const std::vector<double> ones(4, 1.0), zeros(4, 0.0);

  SECTION("gamma 1, beta 0: (x - 2.5)/sqrt(1.25 + 1e-5)") {
    check_tensor(ref::layer_norm(x, ones, zeros, kEps), {1, 4},
                 {-1.5 * inv_std, -0.5 * inv_std, 0.5 * inv_std, 1.5 * inv_std});
  }
  SECTION("gamma 2, beta 5: mean 5, variance 4·1.25/(1.25 + eps)") {
    const std::vector<double> twos(4, 2.0), fives(4, 5.0);
    const ref::Tensor y = ref::layer_norm(x, twos, fives, kEps);
    double mean = 0.0, variance = 0.0;
    for (double v : y.data) mean += v / 4.0;
    for (double v : y.data) variance += (v - mean) * (v - mean) / 4.0;
    CHECK(std::abs(mean - 5.0) <= kExact);
    CHECK(std::abs(variance - 4.0 * 1.25 / (1.25 + kEps)) <= kExact);
  }
  SECTION("the same numbers come out of a block's ln1 step") {
    MiniGPT model(toy_config(), 3);  // ln1 starts at gamma 1, beta 0
    const ref::Result r =
        ref::block_forward(model.config(), model.parameters(), 0, x, {.keep_steps = true});
    check_tensor(ref::step(r, "block_0.ln1"), {1, 4},
                 {-1.5 * inv_std, -0.5 * inv_std, 0.5 * inv_std, 1.5 * inv_std});
  }
}

TEST_CASE("reference RoPE rotates interleaved pairs by position·theta_i", "[reference]") {
  SECTION("d_head 4 at position 2: pair (0,1) turns by 2 rad, pair (2,3) by 0.02 rad") {
    // Two heads of d_head 4. theta_0 = 10000^0 = 1, theta_1 = 10000^(-2/4) = 0.01, so at
    // position 2 the angles are 2 and 0.02 rad. Rotating (1, 0) by a gives (cos a, sin a);
    // rotating (0, 1) gives (-sin a, cos a). A half-split RoPE would instead pair columns
    // 0 and 2 of each head, and give different numbers.
    const ref::Tensor x = ref_matrix(1, 8, {1, 0, 1, 0, 0, 1, 0, 1});
    const ref::Tensor y = ref::rope(x, 2, 10000.0, 2);
    check_tensor(y, {1, 8},
                 {std::cos(2.0), std::sin(2.0), std::cos(0.02), std::sin(0.02),  //
                  -std::sin(2.0), std::cos(2.0), -std::sin(0.02), std::cos(0.02)});
  }
  SECTION("position 0 is the identity, position t of row t") {
    // Rows 0 and 1 with offset 0 are positions 0 and 1: row 0 is unchanged (the reason a
    // check of RoPE must look at a position >= 1), row 1 turns by 1 rad.
    const ref::Tensor x = ref_matrix(2, 2, {3, 4, 1, 0});
    check_tensor(ref::rope(x, 1, 10000.0, 0), {2, 2}, {3, 4, std::cos(1.0), std::sin(1.0)});
  }
  SECTION("in a block: q and k are rotated, v is not") {
    // ln1 gamma 0, beta [1, 0, 0, 1] makes LN1(x) = [1, 0, 0, 1] whatever x is; with
    // W_q = W_k = W_v = W_o = I that is q = k = v. Offset 1 puts the only row at position 1:
    // head 0's pair (1, 0) -> (cos 1, sin 1), head 1's pair (0, 1) -> (-sin 1, cos 1).
    // With T = 1 the only attention weight is 1, so heads = v = [1, 0, 0, 1], unrotated.
    MiniGPT model(toy_config(), 5);
    set(model, "block_0.ln1.gamma", filled(4, 0.0f));
    set(model, "block_0.ln1.beta", {1.0f, 0.0f, 0.0f, 1.0f});
    for (const char* name : {"block_0.attn.W_q", "block_0.attn.W_k", "block_0.attn.W_v",
                             "block_0.attn.W_o"}) {
      set(model, name, identity(4));
    }
    const ref::Result r = ref::block_forward(model.config(), model.parameters(), 0,
                                             ref_matrix(1, 4, {0.3, -0.2, 0.9, 0.1}),
                                             {.position_offset = 1, .keep_steps = true});
    const double c = std::cos(1.0), sn = std::sin(1.0);
    check_tensor(ref::step(r, "block_0.attn.q"), {1, 4}, {1, 0, 0, 1});
    check_tensor(ref::step(r, "block_0.attn.q_rope"), {1, 4}, {c, sn, -sn, c});
    check_tensor(ref::step(r, "block_0.attn.k_rope"), {1, 4}, {c, sn, -sn, c});
    check_tensor(ref::step(r, "block_0.attn.weights"), {2, 1, 1}, {1, 1});
    check_tensor(ref::step(r, "block_0.attn.heads"), {1, 4}, {1, 0, 0, 1});
  }
}

TEST_CASE("reference softmax subtracts the row max and maps -inf to exactly 0",
          "[reference]") {
  // softmax(0, ln 3) = (1, 3)/4; a -inf entry contributes exp(-inf) = 0. Large values
  // (1000, 1000 + ln 3) give the same answer because the row max is subtracted first.
  ref::Tensor x{{3, 2}, {0.0, std::log(3.0), 1000.0, 1000.0 + std::log(3.0), 2.0, kMinusInf}};
  ref::softmax_last_axis(x);
  check_tensor(x, {3, 2}, {0.25, 0.75, 0.25, 0.75, 1.0, 0.0});
  CHECK(x.data[5] == 0.0);  // exactly, not merely small
}

TEST_CASE("reference toy block: every step derived by hand", "[reference]") {
  // Derivation (x = kToyX, s = 1/sqrt(1 + eps), c = cos 1, sn = sin 1, a = sqrt(2)·s²):
  //
  // ln1: both rows have mean 0 and biased variance 1, so LN1(x) = s·x.
  // q = k = v = s·x (identity projections), all (2, 4).
  // RoPE: row 0 is position 0 (unchanged). Row 1 is position 1: head 0's pair s·(1, 1)
  //   turns by 1 rad to s·(c - sn, sn + c); head 1's pair s·(-1, -1) to s·(sn - c, -sn - c).
  // scores = q_h·k_hᵀ/√2, before the mask, every entry:
  //   head 0: q0·k0 = s²(1 + 1) = 2s²;  q0·k1 = s²((c - sn) - (sn + c)) = -2s²·sn;
  //           q1·k0 = the same -2s²·sn;  q1·k1 = s²·|(1, 1)|² = 2s² (rotations keep norms).
  //   head 1: q0·k0 = 2s²; q0·k1 = s²((sn - c) + (sn + c)) = 2s²·sn; q1·k0 = 2s²·sn;
  //           q1·k1 = 2s².
  //   Divided by √2: head 0 = a·[[1, -sn], [-sn, 1]], head 1 = a·[[1, sn], [sn, 1]].
  //   The off-diagonal depends only on the 1-rad difference of positions: RoPE is relative.
  // masked: entry (0, 1) of each head becomes -inf.
  // weights: row 0 = [1, 0]. Row 1 of head 0 = softmax(-a·sn, a):
  //   w = 1/(1 + exp(a(1 + sn))) on key 0, 1 - w on key 1. Head 1: softmax(a·sn, a):
  //   w' = 1/(1 + exp(a(1 - sn))) on key 0, 1 - w' on key 1.
  // heads: row 0 = v0 = s·[1, -1, 1, -1]. Row 1, head 0: w·s(1, -1) + (1 - w)·s(1, 1)
  //   = s·(1, 1 - 2w); head 1: w'·s(1, -1) + (1 - w')·s(-1, -1) = s·(2w' - 1, -1).
  // out = heads (W_o = I). resid1 z = x + out.
  // ln2 = beta = [1, -1, 2, 0] (gamma 0). ffn.pre = ln2 (W_1 = I, b_1 = 0).
  // gelu = [Φ(1), -(1 - Φ(1)), 2Φ(2), 0] with Φ(1) = 0.8413447460685429,
  //   Φ(2) = 0.9772498680518208 (normal table). ffn.out = gelu + b_2 = gelu + [0, 0, 0, 0.5].
  // resid2 = z + ffn.out.
  const double c = std::cos(1.0), sn = std::sin(1.0);
  const double a = std::numbers::sqrt2 * s * s;
  const double w = 1.0 / (1.0 + std::exp(a * (1.0 + sn)));
  const double w_prime = 1.0 / (1.0 + std::exp(a * (1.0 - sn)));
  const double phi1 = 0.8413447460685429, phi2 = 0.9772498680518208;

  const MiniGPT model = toy_block_model();
  const ref::Result r =
      ref::block_forward(model.config(), model.parameters(), 0, kToyX, {.keep_steps = true});
  const std::vector<double> normed = {s, -s, s, -s, s, s, -s, -s};
  const std::vector<double> heads = {s, -s, s, -s, s, s * (1 - 2 * w), s * (2 * w_prime - 1), -s};
  const std::vector<double> z = {1 + s, -1 - s, 1 + s, -1 - s,
                                 1 + s, 1 + s * (1 - 2 * w), -1 + s * (2 * w_prime - 1), -1 - s};
  const std::vector<double> gelu_row = {phi1, -(1 - phi1), 2 * phi2, 0.0};
  const std::vector<double> ffn_out_row = {phi1, -(1 - phi1), 2 * phi2, 0.5};

  check_tensor(ref::step(r, "block_0.ln1"), {2, 4}, normed);
  check_tensor(ref::step(r, "block_0.attn.q"), {2, 4}, normed);
  check_tensor(ref::step(r, "block_0.attn.k"), {2, 4}, normed);
  check_tensor(ref::step(r, "block_0.attn.v"), {2, 4}, normed);
  const std::vector<double> rotated = {s, -s, s, -s, s * (c - sn), s * (sn + c), s * (sn - c),
                                       s * (-sn - c)};
  check_tensor(ref::step(r, "block_0.attn.q_rope"), {2, 4}, rotated);
  check_tensor(ref::step(r, "block_0.attn.k_rope"), {2, 4}, rotated);
  check_tensor(ref::step(r, "block_0.attn.scores"), {2, 2, 2},
               {a, -a * sn, -a * sn, a,  //
                a, a * sn, a * sn, a});
  check_tensor(ref::step(r, "block_0.attn.masked"), {2, 2, 2},
               {a, kMinusInf, -a * sn, a,  //
                a, kMinusInf, a * sn, a});
  check_tensor(ref::step(r, "block_0.attn.weights"), {2, 2, 2},
               {1, 0, w, 1 - w,  //
                1, 0, w_prime, 1 - w_prime});
  check_tensor(ref::step(r, "block_0.attn.heads"), {2, 4}, heads);
  check_tensor(ref::step(r, "block_0.attn.out"), {2, 4}, heads);
  check_tensor(ref::step(r, "block_0.resid1"), {2, 4}, z);
  check_tensor(ref::step(r, "block_0.ln2"), {2, 4}, {1, -1, 2, 0, 1, -1, 2, 0});
  check_tensor(ref::step(r, "block_0.ffn.pre"), {2, 4}, {1, -1, 2, 0, 1, -1, 2, 0});
  std::vector<double> gelu_both, ffn_out_both, y;
  for (int row = 0; row < 2; ++row) {
    gelu_both.insert(gelu_both.end(), gelu_row.begin(), gelu_row.end());
    ffn_out_both.insert(ffn_out_both.end(), ffn_out_row.begin(), ffn_out_row.end());
  }
  for (std::size_t i = 0; i < 8; ++i) y.push_back(z[i] + ffn_out_both[i]);
  check_tensor(ref::step(r, "block_0.ffn.gelu"), {2, 4}, gelu_both);
  check_tensor(ref::step(r, "block_0.ffn.out"), {2, 4}, ffn_out_both);
  check_tensor(ref::step(r, "block_0.resid2"), {2, 4}, y);
  check_tensor(r.output, {2, 4}, y);

  // Numerically, for the record: a = 1.41420, w = 0.0689, w' = 0.4442 (head 0's query at
  // position 1 looks mostly at itself; head 1's splits nearly evenly).
  CHECK(std::abs(w - 0.0689) < 1e-4);
  CHECK(std::abs(w_prime - 0.4442) < 1e-4);
}

TEST_CASE("reference toy block without the causal mask", "[reference]") {
  // Same toy, causal_mask = false: masked = scores, and row 0 now also sees key 1.
  // Row 0 of head 0 = softmax(a, -a·sn): weight 1/(1 + exp(-a(1 + sn))) = 1 - w on key 0.
  // Row 0 of head 1 = softmax(a, a·sn): weight 1/(1 + exp(-a(1 - sn))) = 1 - w' on key 0.
  const double sn = std::sin(1.0);
  const double a = std::numbers::sqrt2 * s * s;
  const double w = 1.0 / (1.0 + std::exp(a * (1.0 + sn)));
  const double w_prime = 1.0 / (1.0 + std::exp(a * (1.0 - sn)));

  const MiniGPT model = toy_block_model();
  const ref::Result r = ref::block_forward(model.config(), model.parameters(), 0, kToyX,
                                           {.causal_mask = false, .keep_steps = true});
  CHECK(ref::step(r, "block_0.attn.masked").data == ref::step(r, "block_0.attn.scores").data);
  check_tensor(ref::step(r, "block_0.attn.weights"), {2, 2, 2},
               {1 - w, w, w, 1 - w,  //
                1 - w_prime, w_prime, w_prime, 1 - w_prime});
}

TEST_CASE("reference toy block with the tanh GELU", "[reference]") {
  // The same pre-activations 1, -1, 2, 0 through 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))):
  // 0.8411919906082768, -0.15880800939172324, 1.954597694087775, 0 (python3, math module,
  // the formula above).
  const MiniGPT model = toy_block_model(GeluForm::tanh);
  const ref::Result r =
      ref::block_forward(model.config(), model.parameters(), 0, kToyX, {.keep_steps = true});
  const std::vector<double> row = {0.8411919906082768, -0.15880800939172324, 1.954597694087775,
                                   0.0};
  std::vector<double> both(row);
  both.insert(both.end(), row.begin(), row.end());
  check_tensor(ref::step(r, "block_0.ffn.gelu"), {2, 4}, both);
}

TEST_CASE("reference model: embedding, tied head and uniform attention by hand",
          "[reference]") {
  // A 1-block toy whose block adds nothing: W_q = W_k = W_v = 0 give scores 0 (so the
  // causal weights are [1, 0] and [1/2, 1/2]) and heads 0; W_o = 0, W_1 = 0, b_1 = 0,
  // b_2 = 0 make both branches 0. Then y = x = E[tokens], and
  //   logits[t] = LN_final(E[token t])·Eᵀ.
  // E rows: E[1] = [1, -1, 1, -1], E[2] = [1, 1, -1, -1], E[3] = [2, 0, 0, 0],
  // E[4] = [0, 0, 0, 3], E[5] = -E[1], the rest 0.
  // LN_final(E[1]) = s·[1, -1, 1, -1]; dotted with each E row:
  //   E[1] 4s, E[2] 0, E[3] 2s, E[4] -3s, E[5] -4s, zero rows 0.
  // LN_final(E[2]) = s·[1, 1, -1, -1]:
  //   E[1] 0, E[2] 4s, E[3] 2s, E[4] -3s, E[5] 0.
  MiniGPT model(toy_config(), 11);
  std::vector<float> E(8 * 4, 0.0f);
  const std::vector<std::vector<float>> rows = {
      {1, -1, 1, -1}, {1, 1, -1, -1}, {2, 0, 0, 0}, {0, 0, 0, 3}, {-1, 1, -1, 1}};
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t j = 0; j < 4; ++j) E[(r + 1) * 4 + j] = rows[r][j];
  }
  set(model, "E", E);
  for (const char* name : {"block_0.attn.W_q", "block_0.attn.W_k", "block_0.attn.W_v",
                           "block_0.attn.W_o", "block_0.ffn.W_1"}) {
    set(model, name, filled(16, 0.0f));
  }
  set(model, "block_0.ffn.b_1", filled(4, 0.0f));
  set(model, "block_0.ffn.b_2", filled(4, 0.0f));

  const std::vector<TokenId> tokens = {1, 2};
  const ref::Result r =
      ref::forward(model.config(), model.parameters(), tokens, {.keep_steps = true});
  check_tensor(ref::step(r, "embed"), {2, 4}, {1, -1, 1, -1, 1, 1, -1, -1});
  check_tensor(ref::step(r, "block_0.attn.weights"), {2, 2, 2},
               {1, 0, 0.5, 0.5,  //
                1, 0, 0.5, 0.5});
  check_tensor(ref::step(r, "block_0.resid2"), {2, 4}, {1, -1, 1, -1, 1, 1, -1, -1});
  check_tensor(ref::step(r, "ln_final"), {2, 4}, {s, -s, s, -s, s, s, -s, -s});
  check_tensor(r.output, {2, 8},
               {0, 4 * s, 0, 2 * s, -3 * s, -4 * s, 0, 0,  //
                0, 0, 4 * s, 2 * s, -3 * s, 0, 0, 0});
  check_tensor(ref::step(r, "logits"), {2, 8}, r.output.data);
}

TEST_CASE("reference records steps only when asked, in data-flow order", "[reference]") {
  MiniGPT model(toy_config(), 1);
  const std::vector<TokenId> tokens = {1, 2, 3};
  CHECK(ref::forward(model.config(), model.parameters(), tokens).steps.empty());
  CHECK_THROWS_AS(ref::step(ref::forward(model.config(), model.parameters(), tokens), "embed"),
                  Error);

  const ref::Result r =
      ref::forward(model.config(), model.parameters(), tokens, {.keep_steps = true});
  const std::vector<std::string> expected = {
      "embed",
      "block_0.ln1",        "block_0.attn.q",      "block_0.attn.k",       "block_0.attn.v",
      "block_0.attn.q_rope", "block_0.attn.k_rope", "block_0.attn.scores",  "block_0.attn.masked",
      "block_0.attn.weights", "block_0.attn.heads", "block_0.attn.out",     "block_0.resid1",
      "block_0.ln2",        "block_0.ffn.pre",     "block_0.ffn.gelu",     "block_0.ffn.out",
      "block_0.resid2",     "ln_final",            "logits"};
  std::vector<std::string> names;
  for (const ref::Step& st : r.steps) names.push_back(st.name);
  CHECK(names == expected);
  CHECK(ref::step(r, "block_0.attn.scores").shape == std::vector<std::size_t>{2, 3, 3});
  CHECK(ref::step(r, "block_0.ffn.pre").shape == std::vector<std::size_t>{3, 4});
  CHECK(ref::step(r, "logits").shape == std::vector<std::size_t>{3, 8});
}

TEST_CASE("reference rejects bad input with a message naming the rule", "[reference]") {
  MiniGPT model(toy_config(), 1);  // vocab 8, context 4, d_model 4, 1 layer
  const MiniGPTConfig& cfg = model.config();
  const ParameterRegistry& w = model.parameters();
  using Catch::Matchers::Contains;

  const std::vector<TokenId> empty, five = {1, 2, 3, 4, 5}, three = {1, 2, 3};
  const std::vector<TokenId> too_big = {1, 8}, negative = {-1};
  CHECK_THROWS_AS(ref::forward(cfg, w, empty), InputError);
  CHECK_THROWS_WITH(ref::forward(cfg, w, empty), Contains("T >= 1"));
  CHECK_THROWS_AS(ref::forward(cfg, w, five), InputError);
  CHECK_THROWS_WITH(ref::forward(cfg, w, five), Contains("context_len = 4"));
  // 3 tokens fit at offset 1 (positions 1..3) but not at offset 2 (positions 2..4).
  CHECK_NOTHROW(ref::forward(cfg, w, three, {.position_offset = 1}));
  CHECK_THROWS_AS(ref::forward(cfg, w, three, {.position_offset = 2}), InputError);
  CHECK_THROWS_AS(ref::forward(cfg, w, too_big), InputError);
  CHECK_THROWS_WITH(ref::forward(cfg, w, too_big), Contains("token id 8") && Contains("vocab_size = 8"));
  CHECK_THROWS_AS(ref::forward(cfg, w, negative), InputError);

  CHECK_THROWS_AS(ref::block_forward(cfg, w, 0, ref_matrix(2, 3, std::vector<double>(6, 0.0))),
                  InputError);
  CHECK_THROWS_WITH(ref::block_forward(cfg, w, 0, ref_matrix(2, 3, std::vector<double>(6, 0.0))),
                    Contains("3 columns") && Contains("d_model = 4"));
  CHECK_THROWS_AS(ref::block_forward(cfg, w, 0, ref_matrix(0, 4, {})), InputError);
  CHECK_THROWS_AS(ref::block_forward(cfg, w, 0, ref_matrix(5, 4, std::vector<double>(20, 0.0))),
                  InputError);
  CHECK_THROWS_AS(ref::block_forward(cfg, w, 1, ref_matrix(1, 4, {1, 2, 3, 4})), InputError);
  CHECK_THROWS_AS(ref::block_forward(cfg, w, 0, ref::Tensor{{2, 4}, {1, 2, 3}}), InputError);
}
