// MiniGPT as a whole: the parameter table, the count, the tied head, determinism, the trace,
// and the input checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>

#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/trace.hpp"
#include "helpers.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;

namespace {

using test_support::canonical;
using test_support::same_bits;



}  // namespace

TEST_CASE("parameter names and order follow CONVENTIONS.md §9", "[model][registry]") {
  const MiniGPT model;
  std::vector<std::string> expected = {"E"};
  for (const char* block : {"block_0", "block_1"}) {
    for (const char* suffix : {"ln1.gamma", "ln1.beta", "attn.W_q", "attn.W_k", "attn.W_v",
                               "attn.W_o", "ln2.gamma", "ln2.beta", "ffn.W_1", "ffn.b_1",
                               "ffn.W_2", "ffn.b_2"}) {
      expected.push_back(std::string(block) + "." + suffix);
    }
  }
  expected.push_back("ln_final.gamma");
  expected.push_back("ln_final.beta");
  std::vector<std::string> names;
  for (const Parameter& p : model.parameters()) names.push_back(p.name);
  CHECK(names == expected);
  // Linear maps are (d_in, d_out).
  CHECK(model.parameters().at("block_0.ffn.W_1").shape() == Shape{64, 256});
  CHECK(model.parameters().at("block_0.ffn.W_2").shape() == Shape{256, 64});
  CHECK(model.parameters().at("E").shape() == Shape{64, 64});
  CHECK(model.parameters().at("ln_final.beta").shape() == Shape{64});
  CHECK_THROWS_WITH(model.parameters().at("lm_head.weight"), Contains("'lm_head.weight'"));
}

TEST_CASE("the locked model has 103,680 parameters, counted from its tensors", "[model][registry]") {
  const MiniGPT model;
  // 4,096 (E) + 2 × 49,728 (per block) + 128 (ln_final), CONVENTIONS.md §9.
  CHECK(model.parameter_count() == 103680);
  CHECK(closed_form_parameter_count(model.config()) == 103680);
  CHECK(model.unique_storage_count() == 103680);
}

TEST_CASE("counted tensors equal the closed form for a sweep of configs", "[model][registry]") {
  for (std::int64_t d_model : {2, 8, 24, 64}) {
    for (std::int64_t n_heads : {1, 2}) {
      if ((d_model / n_heads) % 2 != 0) continue;
      for (std::int64_t n_layers : {1, 3}) {
        for (std::int64_t d_ff : {1, 40}) {
          for (std::int64_t vocab : {1, 64, 512}) {
            const MiniGPTConfig c({.d_model = d_model, .n_heads = n_heads, .n_layers = n_layers,
                                   .d_ff = d_ff, .vocab_size = vocab, .context_len = 4});
            const MiniGPT model(c);
            INFO(c.describe());
            CHECK(model.parameter_count() == closed_form_parameter_count(c));
            CHECK(model.unique_storage_count() == model.parameter_count());
            CHECK(MiniGPT::checked_parameter_count(c) == model.parameter_count());
          }
        }
      }
    }
  }
}

TEST_CASE("the counting variants: RMSNorm with gain only, no FFN biases", "[model][registry]") {
  // theory/04: vocab 512, RMSNorm (gain only), no biases anywhere:
  // 512·64 + 2·(4·64² + 2·64·256 + 2·64) + 64 = 32,768 + 2·49,280 + 64 = 131,392.
  const MiniGPT variant(MiniGPTConfig({.vocab_size = 512, .norm = NormKind::rms_norm, .ffn_biases = false}));
  CHECK(variant.parameter_count() == 131392);
  CHECK(closed_form_parameter_count(variant.config()) == 131392);
  CHECK(variant.unique_storage_count() == 131392);
  CHECK(variant.parameters().find("block_0.ln1.beta") == nullptr);
  CHECK(variant.parameters().find("block_1.ffn.b_2") == nullptr);
  CHECK(variant.parameters().find("ln_final.gamma") != nullptr);
  for (const NormKind norm : {NormKind::layer_norm, NormKind::rms_norm}) {
    for (const bool biases : {true, false}) {
      for (std::int64_t d_ff : {1, 40}) {
        const MiniGPTConfig c({.d_model = 8, .n_heads = 2, .n_layers = 3, .d_ff = d_ff, .vocab_size = 11,
                               .norm = norm, .ffn_biases = biases});
        INFO(c.describe());
        const MiniGPT model(c);
        CHECK(model.parameter_count() == closed_form_parameter_count(c));
        CHECK(model.unique_storage_count() == model.parameter_count());
        CHECK(MiniGPT::checked_parameter_count(c) == model.parameter_count());
      }
    }
  }
}

TEST_CASE("the count of a config without building it: the loader's bound", "[model][registry]") {
  // The weights loader bounds a file's config by this count before building the model.
  CHECK(MiniGPT::checked_parameter_count(MiniGPTConfig()) == 103680);
  // Large configs are counted, not built: exactly while the count fits 64 bits (here about
  // 2^61.6), and as too large, never wrapped, once it does not.
  const MiniGPTConfig huge({.d_model = 1 << 12, .n_heads = 1 << 8, .n_layers = 1 << 24, .d_ff = 1 << 24,
                            .vocab_size = 1 << 24});
  const std::optional<std::uint64_t> n = MiniGPT::checked_parameter_count(huge);
  REQUIRE(n.has_value());
  const std::uint64_t d = 1 << 12, L = 1 << 24, f = 1 << 24, V = 1 << 24;
  CHECK(*n == V * d + L * (4 * d * d + 2 * d * f + f + d + 4 * d) + 2 * d);
  // 2^24 layers of 4·(2^24)² = 2^50 attention weights each: 2^74 and more.
  const MiniGPTConfig too_big({.d_model = 1 << 24, .n_heads = 1 << 20, .n_layers = 1 << 24, .d_ff = 1,
                               .vocab_size = 1});
  CHECK_FALSE(MiniGPT::checked_parameter_count(too_big).has_value());
}

TEST_CASE("the LM head shares the embedding's storage", "[model][tied]") {
  MiniGPT model;
  // The same object and the same bytes: a copied head would have its own data pointer.
  CHECK(&model.lm_head().weight() == &model.embedding().E());
  CHECK(model.lm_head().weight().data() == model.embedding().E().data());
  // Counting storage once per tensor read by the forward would double E if it were copied.
  std::size_t read = 0;
  for (const Parameter* p : model.tensors_read_by_forward()) read += p->numel();
  CHECK(read == model.parameter_count() + 64 * 64);  // E is read twice...
  CHECK(model.unique_storage_count() == model.parameter_count());  // ...but stored once

  // A change to E reaches the head: scaling E's row for 'works' changes that logit.
  const TokenId works = Vocabulary::builtin().id("works");
  const Matrix before = model.forward(canonical());
  Parameter& E = model.parameters().at("E");
  for (std::size_t j = 0; j < 64; ++j) E.value(works, j) *= 3.0f;
  const Matrix after = model.forward(canonical());
  CHECK(after(7, works) != before(7, works));
}

TEST_CASE("init follows the simple Gaussian rule", "[model][init]") {
  const MiniGPT model;
  auto stddev = [](const Parameter& p) {
    double sum = 0, sq = 0;
    for (const float v : p.value) sum += v;
    const double mean = sum / static_cast<double>(p.numel());
    for (const float v : p.value) sq += (v - mean) * (v - mean);
    return std::sqrt(sq / static_cast<double>(p.numel()));
  };
  const ParameterRegistry& r = model.parameters();
  // With n draws the sample std is within about 1/√(2n) relative of the true one; n >= 4096
  // here, so 5% is over 4 standard errors.
  CHECK(stddev(r.at("E")) == Approx(0.02).epsilon(0.05));
  CHECK(stddev(r.at("block_0.attn.W_q")) == Approx(1.0 / 8).epsilon(0.05));   // 1/√64
  CHECK(stddev(r.at("block_1.ffn.W_1")) == Approx(1.0 / 8).epsilon(0.05));
  CHECK(stddev(r.at("block_0.ffn.W_2")) == Approx(1.0 / 16).epsilon(0.05));   // 1/√256
  for (const char* zero : {"block_0.ffn.b_1", "block_1.ffn.b_2", "ln_final.beta"}) {
    for (const float v : r.at(zero).value) REQUIRE(v == 0.0f);
  }
  for (const float v : r.at("block_1.ln2.gamma").value) REQUIRE(v == 1.0f);
}

TEST_CASE("same seed gives the same bits, other seeds and other parameters differ", "[model][determinism]") {
  const MiniGPT a(MiniGPTConfig(), 7), b(MiniGPTConfig(), 7), c(MiniGPTConfig(), 8);
  for (const Parameter& p : a.parameters()) {
    const Parameter& q = b.parameters().at(p.name);
    REQUIRE(std::memcmp(p.data(), q.data(), p.numel() * sizeof(float)) == 0);
  }
  CHECK(same_bits(a.forward(canonical()), b.forward(canonical())));
  CHECK_FALSE(same_bits(a.forward(canonical()), c.forward(canonical())));
  CHECK(a.parameters().at("E").value != c.parameters().at("E").value);
  // Parameters of the same shape and rule do not share a stream.
  CHECK(a.parameters().at("block_0.attn.W_q").value != a.parameters().at("block_0.attn.W_k").value);
  CHECK(a.parameters().at("block_0.attn.W_q").value != a.parameters().at("block_1.attn.W_q").value);
}

TEST_CASE("a value does not depend on what else the model contains", "[model][determinism]") {
  // Streams come from (seed, name): block_0's weights are the same in a 1-layer and a
  // 3-layer model of the same width.
  const MiniGPT small(MiniGPTConfig({.n_layers = 1}), 5), large(MiniGPTConfig({.n_layers = 3}), 5);
  CHECK(small.parameters().at("block_0.ffn.W_2").value == large.parameters().at("block_0.ffn.W_2").value);
  CHECK(small.parameters().at("E").value == large.parameters().at("E").value);
}

TEST_CASE("the forward gives finite (T, V) logits and a moved model gives the same", "[model]") {
  MiniGPT model;
  const Matrix logits = model.forward(canonical());
  REQUIRE(logits.shape(0) == 8);
  REQUIRE(logits.shape(1) == 64);
  for (const float v : logits) REQUIRE(std::isfinite(v));
  const MiniGPT moved(std::move(model));
  CHECK(same_bits(moved.forward(canonical()), logits));
}

TEST_CASE("the trace reports every operation in data-flow order", "[model][trace]") {
  const MiniGPT model;
  TraceRecorder trace;
  model.forward(canonical(), {.tracer = &trace});
  // embed; per block ln1, q, k, v, q_rope, k_rope, scores, masked, weights, heads, out,
  // resid1, ln2, ffn.pre, ffn.gelu, ffn.out, resid2 (17); ln_final; logits.
  REQUIRE(trace.entries().size() == 1 + 2 * 17 + 2);
  CHECK(trace.entries().front().event.name == "embed");
  CHECK(trace.entries().back().event.name == "logits");
  std::set<std::string> names;
  for (const auto& e : trace.entries()) names.insert(e.event.name);
  CHECK(names.size() == trace.entries().size());  // each name once
  const TraceEvent& scores = trace.at("block_1.attn.scores").event;
  CHECK(scores.inputs == std::vector<Shape>{{4, 8, 16}, {4, 16, 8}});
  CHECK(scores.output == Shape{4, 8, 8});
  CHECK(scores.formula == "q·kᵀ/√16");
  CHECK(trace.at("logits").event.output == Shape{8, 64});
  CHECK(trace.at("logits").values.empty());  // values only when asked for
}

TEST_CASE("masked attention weights are exactly 0 and rows sum to 1", "[model][attention]") {
  const MiniGPT model;
  TraceRecorder trace(true);
  model.forward(canonical(), {.tracer = &trace});
  for (const char* name : {"block_0.attn.weights", "block_1.attn.weights"}) {
    const std::vector<float>& w = trace.at(name).values;
    REQUIRE(w.size() == 4 * 8 * 8);
    for (std::size_t h = 0; h < 4; ++h) {
      for (std::size_t i = 0; i < 8; ++i) {
        double row = 0;
        for (std::size_t j = 0; j < 8; ++j) {
          const float v = w[(h * 8 + i) * 8 + j];
          if (j > i) REQUIRE(v == 0.0f);
          row += v;
        }
        CHECK(row == Approx(1.0).margin(1e-6));  // 8 fp32 terms: a few ulps of 1
      }
    }
  }
}

TEST_CASE("bad input to a forward is a clear InputError", "[model][errors]") {
  const MiniGPT model;
  CHECK_THROWS_WITH(model.forward(std::vector<TokenId>{}), Contains("empty sequence"));
  CHECK_THROWS_WITH(model.forward(std::vector<TokenId>(33, 1)),
                    Contains("T = 33") && Contains("context_len = 32"));
  CHECK_THROWS_WITH(model.forward(std::vector<TokenId>{1, 64}),
                    Contains("token id 64 at position 1") && Contains("vocab_size = 64"));
  CHECK_THROWS_WITH(model.forward(std::vector<TokenId>{-3}), Contains("token id -3"));
  CHECK_THROWS_WITH(model.forward(std::vector<TokenId>(4, 1), {.position_offset = 30}),
                    Contains("position 30"));
  CHECK_NOTHROW(model.forward(std::vector<TokenId>(32, 1)));  // exactly the context is fine
  CHECK_NOTHROW(model.forward(std::vector<TokenId>(2, 1), {.position_offset = 30}));

  Matrix y;
  CHECK_THROWS_AS(model.block(0).forward(Matrix({2, 5}), y), InputError);
}

// The mask the forward runs is the mask the chapters teach: scores above the diagonal become
// −∞, and the softmax turns exactly those into 0. The trace shows the buffers the forward used.
TEST_CASE("the forward writes -inf above the diagonal and the softmax turns it into exact zeros",
          "[model][attention][trace]") {
  const MiniGPT model;
  TraceRecorder trace(true);
  model.forward(canonical(), {.tracer = &trace});
  const std::size_t H = 4, T = 8;
  for (const char* block : {"block_0", "block_1"}) {
    const std::string prefix = std::string(block) + ".attn.";
    const std::vector<float>& scores = trace.at(prefix + "scores").values;
    const std::vector<float>& masked = trace.at(prefix + "masked").values;
    const std::vector<float>& weights = trace.at(prefix + "weights").values;
    REQUIRE(scores.size() == H * T * T);
    for (std::size_t k = 0; k < H * T * T; ++k) {
      const std::size_t i = (k / T) % T, j = k % T;
      REQUIRE(std::isfinite(scores[k]));  // the product itself is finite everywhere
      if (j > i) {
        CHECK(masked[k] == -INFINITY);
        CHECK(weights[k] == 0.0f);
      } else {
        CHECK(masked[k] == scores[k]);  // the mask leaves the past and the diagonal alone
      }
    }
  }
}

TEST_CASE("the traced weights are the ones the forward multiplied by v", "[model][attention][trace]") {
  // heads_h = weights_h · v_h: redo that product in double from the traced weights and v. Had
  // the trace shown weights of its own (recomputed, or masked differently), this would differ
  // by far more than fp32 rounding.
  const MiniGPT model;
  TraceRecorder trace(true);
  model.forward(canonical(), {.tracer = &trace});
  const std::size_t H = 4, T = 8, dh = 16, d = 64;
  const std::vector<float>& w = trace.at("block_1.attn.weights").values;
  const std::vector<float>& v = trace.at("block_1.attn.v").values;
  const std::vector<float>& heads = trace.at("block_1.attn.heads").values;
  double worst = 0.0;
  for (std::size_t h = 0; h < H; ++h) {
    for (std::size_t i = 0; i < T; ++i) {
      for (std::size_t c = 0; c < dh; ++c) {
        double sum = 0.0;
        for (std::size_t j = 0; j < T; ++j) sum += double(w[(h * T + i) * T + j]) * v[j * d + h * dh + c];
        worst = std::max(worst, std::abs(sum - heads[i * d + h * dh + c]));
      }
    }
  }
  CHECK(worst < 1e-6);
}

TEST_CASE("a traced forward computes the same logits as an untraced one, bit for bit", "[model][trace]") {
  // With a tracer that wants values, the attention computes the key blocks wholly above the
  // diagonal too (to show the full (H, T, T) picture) and masks them; without one it skips
  // them. exp(−∞) = 0 makes the two the same, and T = 100 > the 64-row block exercises it.
  const MiniGPT model(MiniGPTConfig({.context_len = 128}), 3);
  const std::vector<TokenId> tokens = test_support::random_tokens(11, 100, 64);
  TraceRecorder trace(true);
  const Matrix traced = model.forward(tokens, {.tracer = &trace});
  CHECK(same_bits(traced, model.forward(tokens)));
  const std::vector<float>& masked = trace.at("block_0.attn.masked").values;
  REQUIRE(masked.size() == 4 * 100 * 100);
  CHECK(masked[(0 * 100 + 10) * 100 + 90] == -INFINITY);  // a key block wholly in the future
}
