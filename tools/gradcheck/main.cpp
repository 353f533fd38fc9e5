// gradcheck: prints, per parameter tensor, how far the analytic gradients are from central
// finite differences (double) and how far the fp32 gradients are from the double ones, with
// the tolerances and a verdict. Exit status 0 when every figure is within its tolerance, 1
// when one is not, 2 on bad input.
//
// The scalar differentiated is L = Σ G ⊙ logits, G a fixed random (T, V) array, so that
// dL/dθ is the backward of G. Errors are normwise per tensor: max|a − b| / max|b| (see
// src/minimodel/backward/gradient_check.hpp for why, and for the tolerances' derivation).
#include <cstdint>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "cli_support/command_line.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/backward/gradient_check.hpp"
#include "minimodel/model.hpp"
#include "minimodel/random.hpp"
#include "minimodel/tolerance.hpp"
#include "minimodel/vocab.hpp"

namespace {

using namespace minimodel;

struct Case {
  std::string title;
  MiniGPTConfig config;
  std::vector<TokenId> tokens;
  std::size_t position_offset;
  std::size_t samples;  // per tensor; 0 = every entry
};

// The small config: every tensor small enough to difference every entry. d_head 4 so that
// RoPE has two pairs per head with different frequencies; T = 6 at offset 2, so RoPE acts on
// every row and the backward must honour the offset.
MiniGPTConfig small_config(NormKind norm, bool biases, GeluForm gelu) {
  return MiniGPTConfig(ConfigValues{.d_model = 8, .n_heads = 2, .n_layers = 2, .d_ff = 16,
                                    .vocab_size = 11, .context_len = 8, .gelu = gelu,
                                    .norm = norm, .ffn_biases = biases});
}

std::vector<TokenId> small_tokens() { return {3, 1, 4, 1, 5, 9}; }  // a repeated id: E's scatter adds

std::string shape_of(const Parameter& p) { return format_shape(p.shape()); }

const char* verdict(bool ok) { return ok ? "PASS" : "FAIL"; }

// Runs one case; prints the per-tensor table when `table`, else one summary line.
bool run(const Case& c, std::uint64_t seed, bool table) {
  MiniGPT model(c.config, seed);
  randomize_constants(model, seed);
  const GradientCheckResult r = check_gradients(
      model, c.tokens, {.max_samples = c.samples, .seed = seed, .position_offset = c.position_offset});
  const double fp32_tolerance = backward_tolerance(c.config);  // 2·L·K·u of this config
  const bool ok = r.ok(kFiniteDifferenceTolerance, fp32_tolerance);
  if (table) {
    fmt::print("\n== {} ==\n{}\nT = {} at position offset {}; finite differences on {} per tensor\n\n",
               c.title, c.config.describe(), c.tokens.size(), c.position_offset,
               c.samples == 0 ? std::string("every entry") : fmt::format("at most {} entries", c.samples));
    fmt::print("{:<24} {:>10} {:>9} {:>11} {:>14} {:>14}\n", "tensor", "shape", "checked", "max|grad|",
               "FD vs analytic", "fp32 vs double");
    for (std::size_t i = 0; i < r.tensors.size(); ++i) {
      const TensorGradientCheck& t = r.tensors[i];
      const Parameter& p = model.parameters().at(t.name);
      fmt::print("{:<24} {:>10} {:>9} {:>11.3e} {:>14.2e} {:>14.2e}\n", t.name, shape_of(p),
                 fmt::format("{}/{}", t.sampled, t.numel), t.max_gradient, t.fd_error, t.fp32_error);
    }
    fmt::print("{:<24} {:>10} {:>9} {:>11} {:>14} {:>14.2e}\n", "d_embeddings (input)",
               format_shape({c.tokens.size(), c.config.d_model()}), "", "", "", r.d_embeddings_fp32_error);
  }
  fmt::print("{}: {}: worst FD vs analytic {:.2e} (tolerance {:.1e}), worst fp32 vs double {:.2e} "
             "(tolerance {:.2e})\n",
             verdict(ok), c.title, r.worst_fd_error(), kFiniteDifferenceTolerance, r.worst_fp32_error(),
             fp32_tolerance);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  cli_support::CommandLine app{"gradcheck: the backward's gradients against finite differences and fp32 against double",
                               cli_support::CommandLine::Checks::as_declared};
  std::string which = "all";
  // Signed, so that a negative count is refused instead of wrapping to "every entry".
  std::int64_t samples = 16;
  std::uint64_t seed = 1;
  app.option("--case", which, "small | variants | locked | all").one_of({"small", "variants", "locked", "all"});
  app.option("--samples", samples, "entries per tensor of the locked config to difference (0 = all)")
      .range(0, std::int64_t{1} << 20);
  app.option("--seed", seed, "seed of the model, its constants and the upstream gradient");
  if (const std::optional<int> status = app.parse(argc, argv)) return *status;

  try {
    fmt::print("gradcheck: L = sum(G * logits), G uniform in [-1, 1) (seed {}); central differences "
               "in double, step {:g}\n",
               seed, kFiniteDifferenceStep);
    fmt::print("errors are normwise per tensor, max|a - b| / max|b|; tolerances: FD {:.1e}, fp32 2·L·K·u "
               "of each config (L = n_layers, K = its longest sum, u = 2^-24; the locked config: {:.2e})\n",
               kFiniteDifferenceTolerance, backward_tolerance(MiniGPTConfig()));
    fmt::print("every model: weights drawn from the seed, then gamma in [0.8, 1.2) and beta and biases "
               "in [-0.2, 0.2) (not 1 and 0, so a backward that ignored one could not pass)\n");
    bool ok = true;
    if (which == "small" || which == "all") {
      ok &= run({"small config", small_config(NormKind::layer_norm, true, GeluForm::exact), small_tokens(), 2, 0},
                seed, true);
    }
    if (which == "variants" || which == "all") {
      fmt::print("\n== small config, every variant (every entry differenced) ==\n");
      for (NormKind norm : {NormKind::layer_norm, NormKind::rms_norm}) {
        for (bool biases : {true, false}) {
          for (GeluForm gelu : {GeluForm::exact, GeluForm::tanh}) {
            const std::string title = fmt::format("{}, {}, gelu {}", to_string(norm),
                                                  biases ? "ffn biases" : "no ffn biases", to_string(gelu));
            ok &= run({title, small_config(norm, biases, gelu), small_tokens(), 2, 0}, seed, false);
          }
        }
      }
    }
    if (which == "locked" || which == "all") {
      const std::vector<TokenId> tokens = Vocabulary::builtin().encode(kCanonicalText);
      ok &= run({"locked config, canonical sequence", MiniGPTConfig(), tokens, 0, static_cast<std::size_t>(samples)}, seed, true);
    }
    fmt::print("\n{}\n", ok ? "gradcheck: every gradient within its tolerance" : "gradcheck: FAILED");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gradcheck: {}\n", e.what());
    return 2;
  }
}
