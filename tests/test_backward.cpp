// The backward pass (issue 5): every gradient checked against something independent of it.
//
//   - central finite differences in double of the reference forward, against the double
//     reference backward, per parameter tensor (every entry of a small config in all eight
//     variants; sampled entries of the locked config);
//   - the fp32 backward against the double one;
//   - causality through gradients, bit for bit;
//   - the Pre-LN identity path: with W_o and W_2 zeroed, a block's Jacobian is the identity;
//   - negative controls: a wrong gradient, a missing mask, an unzeroed W_o are all caught.
//
// The tolerances and their derivation are in src/minimodel/backward/gradient_check.hpp; the measured
// errors are attached with INFO (run with -s) and printed by tools/gradcheck.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "minimodel/activations.hpp"
#include "minimodel/backward/backward.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/backward/gradient_check.hpp"
#include "minimodel/model.hpp"
#include "minimodel/random.hpp"
#include "minimodel/backward/reference_backward.hpp"
#include "minimodel/rope.hpp"
#include "minimodel/tolerance.hpp"
#include "minimodel/vocab.hpp"
#include "helpers.hpp"

namespace {

using test_support::random_tokens;

using namespace minimodel;
namespace ref = minimodel::reference;

MiniGPTConfig small_config(NormKind norm = NormKind::layer_norm, bool biases = true,
                           GeluForm gelu = GeluForm::exact) {
  return MiniGPTConfig(ConfigValues{.d_model = 8, .n_heads = 2, .n_layers = 2, .d_ff = 16,
                                    .vocab_size = 11, .context_len = 8, .gelu = gelu,
                                    .norm = norm, .ffn_biases = biases});
}


Matrix random_matrix(std::uint64_t seed, std::size_t rows, std::size_t cols, double range) {
  SplitMix64 rng(seed);
  Matrix m({rows, cols});
  for (float& v : m) v = static_cast<float>(range * (2.0 * rng.uniform() - 1.0));
  return m;
}

// Every tensor within both tolerances, each reported on its own. A tensor whose gradient is
// zero checks nothing, so every gradient must be non-zero unless `zero_gradient` says so.
// The fp32 tolerance is 2·L·K·u of the model's own config (src/minimodel/tolerance.hpp).
void require_within_tolerances(const MiniGPTConfig& config, const GradientCheckResult& r,
                               bool finite_differences = true,
                               bool (*zero_gradient)(const std::string&) = nullptr) {
  REQUIRE_FALSE(r.tensors.empty());
  const double fp32_tolerance = backward_tolerance(config);
  for (const TensorGradientCheck& t : r.tensors) {
    INFO(t.name << ": FD vs analytic " << t.fd_error << " (" << t.sampled << " of " << t.numel
                << " entries; tolerance " << kFiniteDifferenceTolerance << "), fp32 vs double "
                << t.fp32_error << " (tolerance " << fp32_tolerance << "), max |grad| "
                << t.max_gradient);
    if (zero_gradient != nullptr && zero_gradient(t.name)) {
      CHECK(t.max_gradient == 0.0);
    } else {
      CHECK(t.max_gradient > 0.0);
    }
    if (finite_differences) {
      CHECK(t.sampled > 0);
      CHECK(t.fd_error <= kFiniteDifferenceTolerance);
    }
    CHECK(t.fp32_error <= fp32_tolerance);
  }
  INFO("d_embeddings fp32 vs double " << r.d_embeddings_fp32_error);
  CHECK(r.d_embeddings_fp32_error <= fp32_tolerance);
  CHECK(r.ok(finite_differences ? kFiniteDifferenceTolerance : INFINITY, fp32_tolerance));
}

}  // namespace

TEST_CASE("gradients match finite differences on a small config in every variant", "[backward][gradcheck]") {
  // Every entry of every tensor. T = 6 at offset 2: RoPE acts on every row and the backward
  // must honour the offset; token 1 appears twice, so E's scatter-add adds twice.
  const std::vector<TokenId> tokens = {3, 1, 4, 1, 5, 9};
  for (NormKind norm : {NormKind::layer_norm, NormKind::rms_norm}) {
    for (bool biases : {true, false}) {
      for (GeluForm gelu : {GeluForm::exact, GeluForm::tanh}) {
        INFO(to_string(norm) << ", ffn biases " << biases << ", gelu " << to_string(gelu));
        MiniGPT model(small_config(norm, biases, gelu), 11);
        randomize_constants(model, 11);
        const GradientCheckResult r = check_gradients(model, tokens, {.seed = 3, .position_offset = 2});
        // The variants' tensors: RMSNorm has no beta, no biases means no b_1/b_2.
        CHECK(r.tensors.size() == model.parameters().size());
        require_within_tolerances(model.config(), r);
      }
    }
  }
}

TEST_CASE("gradients match finite differences on the locked config, sampled entries", "[backward][gradcheck]") {
  // 6 entries per tensor (always including its largest gradient): 27 tensors, 324 pairs of
  // forwards. tools/gradcheck runs more samples with another seed.
  MiniGPT model;
  randomize_constants(model, 5);
  const std::vector<TokenId> tokens = Vocabulary::builtin().encode(kCanonicalText);
  const GradientCheckResult r = check_gradients(model, tokens, {.max_samples = 6, .seed = 7});
  CHECK(r.tensors.size() == 27);
  require_within_tolerances(model.config(), r);
}

TEST_CASE("fp32 gradients match the double ones at full context and with a position offset",
          "[backward][gradcheck]") {
  MiniGPT model;
  randomize_constants(model, 6);
  SECTION("T = 32, the whole context") {
    require_within_tolerances(
        model.config(), check_gradients(model, random_tokens(21, 32, 64), {.seed = 8, .finite_differences = false}), false);
  }
  SECTION("T = 7 at position offset 25") {
    require_within_tolerances(
        model.config(), check_gradients(model, random_tokens(22, 7, 64), {.seed = 9, .position_offset = 25, .finite_differences = false}),
        false);
  }
  SECTION("T = 1: W_q and W_k get exactly no gradient") {
    // One position attends to itself only: its softmax weight is 1 whatever q and k are, so
    // W_q and W_k cannot change the output. Both backwards must say exactly 0, and the finite
    // differences agree (L does not move at all).
    require_within_tolerances(
        model.config(), check_gradients(model, random_tokens(23, 1, 64), {.max_samples = 4, .seed = 10}), true,
        [](const std::string& name) { return name.ends_with(".W_q") || name.ends_with(".W_k"); });
  }
}

TEST_CASE("every parameter gets a gradient of its shape, and E gets both of its uses", "[backward]") {
  MiniGPT model;
  randomize_constants(model, 2);
  const std::vector<TokenId> tokens = Vocabulary::builtin().encode(kCanonicalText);
  ActivationRecord record;
  model.forward(tokens, {.activations = &record});
  const Matrix G = upstream_gradient(tokens.size(), 64, 4);
  const Gradients g = backward(model, record, tokens, G);

  REQUIRE(g.parameters.size() == model.parameters().size());
  for (const Parameter& p : model.parameters()) {
    INFO(p.name);
    REQUIRE(g.parameters.contains(p.name));
    CHECK(g.at(p.name).shape() == p.value.shape());
  }
  CHECK(g.d_embeddings.shape(0) == tokens.size());
  CHECK(g.d_embeddings.shape(1) == 64);

  // The head alone: dE_head = Gᵀ·h. Rows of tokens the sequence never looks up get only that;
  // a looked-up row gets that plus the gradient of every position that looked it up.
  const Matrix& h = record.ln_final;
  xt::xarray<float> head_only = xt::zeros<float>(model.embedding().E().value.shape());
  Matrix dh;
  lm_head_backward(h, model.embedding().E(), G, dh, head_only);
  const xt::xarray<float>& dE = g.at("E");
  std::size_t looked_up_rows = 0, other_rows = 0, mismatches = 0, head_only_rows_exact = 0;
  for (std::size_t v = 0; v < 64; ++v) {
    std::vector<std::size_t> positions;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      if (static_cast<std::size_t>(tokens[t]) == v) positions.push_back(t);
    }
    bool exact = true;
    for (std::size_t j = 0; j < 64; ++j) {
      float expected = head_only(v, j);
      for (std::size_t t : positions) expected += g.d_embeddings(t, j);
      if (!(std::abs(dE(v, j) - expected) <= 1e-6f * (1.0f + std::abs(expected)))) ++mismatches;
      exact = exact && dE(v, j) == head_only(v, j);
    }
    (positions.empty() ? other_rows : looked_up_rows) += 1;
    if (positions.empty() && exact) ++head_only_rows_exact;
  }
  INFO(mismatches << " entries of dE differ from head + lookup");
  CHECK(mismatches == 0);
  CHECK(looked_up_rows == 6);  // <bos> I work , you he: "work" and "," twice
  CHECK(other_rows == 58);
  CHECK(head_only_rows_exact == 58);  // rows never looked up get the head's gradient alone
}

TEST_CASE("gradients are causal: output position i sends exactly nothing to inputs after it",
          "[backward][causality]") {
  MiniGPT model;
  randomize_constants(model, 3);
  const std::size_t T = 12;
  const std::vector<TokenId> tokens = random_tokens(31, T, 64);
  for (bool masked : {true, false}) {
    ActivationRecord record;
    model.forward(tokens, {.causal_mask = masked, .activations = &record});
    std::size_t exact_zero_pairs = 0, leaking_pairs = 0, reached_pairs = 0;
    for (std::size_t i = 0; i < T; ++i) {
      // The upstream gradient is non-zero in row i only: d_embeddings is then the gradient
      // of output position i with respect to every input position.
      Matrix G = xt::zeros<float>({T, std::size_t{64}});
      const Matrix row = random_matrix(100 + i, 1, 64, 1.0);
      for (std::size_t v = 0; v < 64; ++v) G(i, v) = row(0, v);
      const Gradients g = backward(model, record, tokens, G, {.causal_mask = masked});
      for (std::size_t j = 0; j < T; ++j) {
        bool all_zero = true;
        for (std::size_t c = 0; c < 64; ++c) all_zero = all_zero && g.d_embeddings(j, c) == 0.0f;
        if (j > i) (all_zero ? exact_zero_pairs : leaking_pairs) += 1;
        if (j <= i && !all_zero) ++reached_pairs;
      }
    }
    const std::size_t pairs = T * (T - 1) / 2;
    INFO((masked ? "causal" : "mask removed") << ": of " << pairs << " pairs i < j, " << exact_zero_pairs
                                              << " exactly zero, " << leaking_pairs << " not; "
                                              << reached_pairs << " of " << pairs + T << " pairs j <= i reached");
    if (masked) {
      CHECK(exact_zero_pairs == pairs);  // bit for bit, every entry of every row j > i
      CHECK(reached_pairs == pairs + T); // and the gradient does reach every earlier position
    } else {
      CHECK(leaking_pairs == pairs);     // negative control: without the mask every pair leaks
    }
  }
}

TEST_CASE("Pre-LN identity path: with W_o and W_2 zeroed a block's Jacobian is exactly the identity",
          "[backward][identity]") {
  const std::size_t T = 5, d = 64;
  for (std::size_t index : {0, 1}) {
    MiniGPT model;
    randomize_constants(model, 4);  // biases and betas non-zero: they stay as they are
    Parameter& W_o = model.parameters().at(fmt::format("block_{}.attn.W_o", index));
    Parameter& W_2 = model.parameters().at(fmt::format("block_{}.ffn.W_2", index));
    const xt::xarray<float> W_o_saved = W_o.value;
    const Matrix x = random_matrix(40 + index, T, d, 2.0);

    for (bool zeroed : {true, false}) {
      W_o.value = W_o_saved;
      if (zeroed) {
        W_o.value.fill(0.0f);
        W_2.value.fill(0.0f);
      }
      const TransformerBlock& block = model.block(index);
      ActivationRecord record;
      Matrix y;
      block.forward(x, y, {.activations = &record});
      // The full (T·d) × (T·d) Jacobian, one row per backward of a unit vector e_(t, c):
      // row (t, c) holds ∂y[t][c]/∂x.
      std::size_t identity_rows = 0, nonzero_above = 0, off_identity = 0;
      // The parameter gradients accumulate over the 320 backwards; only dx is looked at.
      Gradients grads = zero_gradients(model.parameters());
      Matrix dy = xt::zeros<float>({T, d});
      for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t c = 0; c < d; ++c) {
          dy.fill(0.0f);
          dy(t, c) = 1.0f;
          const Matrix dx = block_backward(block, record.blocks.at(index), dy, grads);
          bool identity = true;
          for (std::size_t s = 0; s < T; ++s) {
            for (std::size_t k = 0; k < d; ++k) {
              const float expected = s == t && k == c ? 1.0f : 0.0f;
              if (dx(s, k) != expected) {
                identity = false;
                ++off_identity;
                if (s > t) ++nonzero_above;  // y[t] depending on x[s], s > t: a causal leak
              }
            }
          }
          identity_rows += identity ? 1 : 0;
        }
      }
      INFO("block_" << index << (zeroed ? ", W_o = W_2 = 0" : ", W_o restored") << ": " << identity_rows
                    << " of " << T * d << " Jacobian rows exactly the identity's; " << off_identity
                    << " entries differ; " << nonzero_above << " of them above the block diagonal");
      CHECK(nonzero_above == 0);
      if (zeroed) {
        CHECK(identity_rows == T * d);  // ==, not approximately
        // And the forward: y = x + 0 + (0·gelu + b_2) exactly.
        const float* b_2 = model.parameters().at(fmt::format("block_{}.ffn.b_2", index)).data();
        bool forward_identity = true;
        for (std::size_t s = 0; s < T; ++s) {
          for (std::size_t k = 0; k < d; ++k) forward_identity = forward_identity && y(s, k) == x(s, k) + b_2[k];
        }
        CHECK(forward_identity);
      } else {
        CHECK(identity_rows == 0);  // negative control: the attention branch is back
      }
    }
  }
}

TEST_CASE("a deliberately wrong gradient is caught by the finite differences", "[backward][gradcheck]") {
  MiniGPT model(small_config(), 12);
  randomize_constants(model, 12);
  const std::vector<TokenId> tokens = {2, 7, 7, 0, 10};
  const MiniGPTConfig& config = model.config();
  const ref::Weights weights = ref::to_double(model.parameters());
  const ref::Tensor G = to_double(upstream_gradient(tokens.size(), config.vocab_size(), 5));
  const ref::Gradients right = ref::backward(config, weights, tokens, G);
  const GradientCheckOptions options{.seed = 5};

  auto error_of = [&](const ref::Weights& claimed, const std::string& name) {
    for (const TensorGradientCheck& t : finite_difference_errors(config, weights, tokens, G, claimed, options)) {
      if (t.name == name) return t.fd_error;
    }
    FAIL("no tensor " << name);
    return 0.0;
  };
  REQUIRE(error_of(right.parameters, "E") <= kFiniteDifferenceTolerance);

  SECTION("W_q and W_k gradients swapped") {
    ref::Weights wrong = right.parameters;
    std::swap(wrong.at("block_0.attn.W_q"), wrong.at("block_0.attn.W_k"));
    const double error = error_of(wrong, "block_0.attn.W_q");
    INFO("FD error of the swapped W_q gradient: " << error);
    CHECK(error > 1000 * kFiniteDifferenceTolerance);
  }
  SECTION("E given only its head gradient (the lookup's forgotten)") {
    ref::Weights wrong = right.parameters;
    ref::Tensor& dE = wrong.at("E");
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      for (std::size_t j = 0; j < config.d_model(); ++j) {
        dE.data[static_cast<std::size_t>(tokens[t]) * config.d_model() + j] -= right.d_embeddings.data[t * config.d_model() + j];
      }
    }
    const double error = error_of(wrong, "E");
    INFO("FD error of E without the lookup: " << error);
    CHECK(error > 1000 * kFiniteDifferenceTolerance);
  }
  SECTION("one gradient off by one part in 10^4") {
    ref::Weights wrong = right.parameters;
    for (double& v : wrong.at("block_1.ffn.W_1").data) v *= 1.0 + 1e-4;
    const double error = error_of(wrong, "block_1.ffn.W_1");
    INFO("FD error of W_1's gradient scaled by 1 + 1e-4: " << error);
    CHECK(error > kFiniteDifferenceTolerance);
  }
}

TEST_CASE("the activation record keeps what the backward reads, typed, and can be reused", "[backward]") {
  const MiniGPT model;
  const std::vector<TokenId> tokens = Vocabulary::builtin().encode(kCanonicalText);  // T = 8
  ActivationRecord record;
  model.forward(tokens, {.activations = &record});
  REQUIRE(record.blocks.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const BlockActivations& a = record.blocks[i];
    INFO("block_" << i);
    CHECK(first_missing(a, "block") == "");
    CHECK(a.attn.weights.shape(0) == 4 * 8);  // (H·T, T)
    CHECK(a.attn.weights.shape(1) == 8);
    CHECK(a.ffn.pre.shape(1) == 256);
    CHECK(a.ln1_stats.rstd.size() == 8);
    // The kept statistics are the forward's: with gamma = 1 and beta = 0 (the initial values),
    // LN1's output, kept as the attention's input, is (x − mean)·rstd bit for bit.
    std::size_t differ = 0;
    for (std::size_t t = 0; t < 8; ++t) {
      for (std::size_t j = 0; j < 64; ++j) {
        const float x_hat = (a.input(t, j) - a.ln1_stats.mean[t]) * a.ln1_stats.rstd[t];
        if (x_hat != a.attn.input(t, j)) ++differ;
      }
    }
    CHECK(differ == 0);
    // The masked weights are exactly 0 in the record too: row 0 of head 0 sees key 0 only.
    CHECK(a.attn.weights(0, 0) == 1.0f);
    CHECK(a.attn.weights(0, 1) == 0.0f);
  }
  CHECK(record.ln_final.shape(0) == 8);

  const Matrix G = upstream_gradient(8, 64, 1);
  const Gradients first = backward(model, record, tokens, G);

  // The record holds one forward: the next one overwrites it, and the backward checks that the
  // record is the forward of its tokens.
  std::vector<TokenId> other = tokens;
  other[3] = 9;
  model.forward(other, {.activations = &record});
  CHECK_THROWS_WITH(backward(model, record, tokens, G), Catch::Contains("another forward"));
  model.forward(tokens, {.activations = &record});
  const bool same = backward(model, record, tokens, G).at("block_0.ln1.gamma") == first.at("block_0.ln1.gamma");
  CHECK(same);

  // A record the forward never filled, or the wrong upstream shape, is refused with a clear Error.
  const ActivationRecord empty;
  CHECK_THROWS_WITH(backward(model, empty, tokens, G), Catch::Contains("ForwardOptions::activations"));
  CHECK_THROWS_AS(backward(model, record, tokens, upstream_gradient(8, 63, 1)), Error);
  CHECK(first_missing(BlockActivations{}, "block_0") == "block_0.input");
}

TEST_CASE("per operation: RoPE's backward undoes it, GELU's derivative matches the double one", "[backward]") {
  SECTION("rope_backward is the inverse rotation") {
    const RotaryTable table(16, 32, 10000.0);
    const Matrix x = random_matrix(50, 6, 64, 1.0);
    Matrix y = x;
    apply_rope(y, 4, table, 3);
    double moved = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) moved = std::max(moved, std::abs(double(y.data()[i] - x.data()[i])));
    rope_backward(y, 4, table, 3);  // the transpose of a rotation is its inverse
    double back = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) back = std::max(back, std::abs(double(y.data()[i] - x.data()[i])));
    INFO("RoPE moved entries by up to " << moved << "; rotated back, they differ by " << back);
    CHECK(moved > 0.1);
    CHECK(back <= 1e-6);
  }
  SECTION("gelu_derivative, fp32 vs double, both forms") {
    for (GeluForm form : {GeluForm::exact, GeluForm::tanh}) {
      double worst = 0.0;
      for (int k = -800; k <= 800; ++k) {
        const float x = static_cast<float>(k) / 100.0f;
        const double diff = std::abs(double(gelu_derivative(x, form)) - ref::gelu_derivative(double(x), form));
        worst = std::max(worst, diff);
      }
      INFO(to_string(form) << ": max |fp32 − double| over [−8, 8] = " << worst);
      // Values lie in [−0.13, 1.13]; the tanh form's worst case is 1 − tanh² u where tanh u is
      // near ±1: its fp32 rounding (~6e-8) times |x·u'(x)|, about 3e-7 to 5e-7 at |x| ≈ 3, before
      // tanh saturates. The exact form meets only erfc and exp, ~1 ulp each.
      CHECK(worst <= 1e-6);
    }
    // The two forms' derivatives differ (the forms do, by < 5e-4): the check can tell them apart.
    CHECK(std::abs(ref::gelu_derivative(1.0, GeluForm::exact) - ref::gelu_derivative(1.0, GeluForm::tanh)) > 1e-5);
  }
}
