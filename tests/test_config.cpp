// MiniGPTConfig: the locked defaults, and validation at construction (SPEC §2).
#include <catch2/catch.hpp>

#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;

TEST_CASE("the default config is the locked one", "[config]") {
  const MiniGPTConfig c;
  CHECK(c.d_model() == 64);
  CHECK(c.n_heads() == 4);
  CHECK(c.d_head() == 16);
  CHECK(c.n_layers() == 2);
  CHECK(c.d_ff() == 256);
  CHECK(c.vocab_size() == 64);
  CHECK(c.context_len() == 32);
  CHECK(c.ln_eps() == 1e-5);
  CHECK(c.rope_base() == 10000.0);
  CHECK(c.gelu() == GeluForm::exact);
}

TEST_CASE("an invalid config is refused when built, naming field, value and rule", "[config]") {
  // Each case: the values, then words the message must contain.
  struct Case {
    ConfigValues values;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {{.d_model = 0}, {"d_model = 0", "positive"}},
      {{.d_model = -64}, {"d_model = -64", "positive"}},
      {{.n_heads = 0}, {"n_heads = 0", "positive"}},
      {{.n_layers = -1}, {"n_layers = -1", "positive"}},
      {{.d_ff = 0}, {"d_ff = 0", "positive"}},
      {{.vocab_size = 0}, {"vocab_size = 0", "positive"}},
      {{.context_len = 0}, {"context_len = 0", "positive"}},
      {{.d_model = 64, .n_heads = 5}, {"d_model = 64", "n_heads = 5", "divisible"}},
      {{.d_model = 12, .n_heads = 4}, {"d_head", "= 3", "even", "RoPE"}},
      {{.d_model = int64_t{1} << 40}, {"d_model", "at most"}},
      {{.ln_eps = 0.0}, {"ln_eps = 0", "positive"}},
      {{.ln_eps = std::nan("")}, {"ln_eps", "positive"}},
      {{.rope_base = 1.0}, {"rope_base = 1", "greater than 1"}},
  };
  for (const Case& c : cases) {
    try {
      MiniGPTConfig config(c.values);
      FAIL("accepted an invalid config: " << config.describe());
    } catch (const ConfigError& e) {
      for (const std::string& w : c.words) CHECK_THAT(e.what(), Contains(w));
    }
  }
}

TEST_CASE("valid non-locked configs are accepted", "[config]") {
  CHECK_NOTHROW(MiniGPTConfig({.vocab_size = 512}));
  CHECK_NOTHROW(MiniGPTConfig({.d_model = 4, .n_heads = 2, .n_layers = 1, .d_ff = 16}));
  CHECK_NOTHROW(MiniGPTConfig({.d_model = 768, .n_heads = 12, .n_layers = 12, .d_ff = 3072,
                               .vocab_size = 50257, .context_len = 1024}));
  CHECK(MiniGPTConfig({.d_model = 2, .n_heads = 1}).d_head() == 2);  // the smallest even head
}

TEST_CASE("GELU form names round-trip and unknown names are refused", "[config]") {
  CHECK(gelu_form_from_string(to_string(GeluForm::exact)) == GeluForm::exact);
  CHECK(gelu_form_from_string(to_string(GeluForm::tanh)) == GeluForm::tanh);
  CHECK_THROWS_WITH(gelu_form_from_string("erf"), Contains("'erf'") && Contains("exact"));
}
