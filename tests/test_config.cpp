// MiniGPTConfig: the locked defaults, validation at construction (SPEC §2), and the table of
// fields (kConfigFields) that drives validation, == and describe().
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;

// Named, not anonymous: the suite is a unity build, and another file's helpers must not clash.
namespace config_tests {

// A different value that is still a valid config, for any field of the locked model.
std::int64_t changed(std::int64_t size) { return 2 * size; }  // 2 x n_heads keeps d_head even
double changed(double x) { return 2 * x; }
GeluForm changed(GeluForm g) { return g == GeluForm::exact ? GeluForm::tanh : GeluForm::exact; }
NormKind changed(NormKind n) { return n == NormKind::layer_norm ? NormKind::rms_norm : NormKind::layer_norm; }
bool changed(bool b) { return !b; }

ConfigValues with_field_changed(const ConfigField& field) {
  ConfigValues values;
  std::visit([&](auto member) { values.*member = changed(values.*member); }, field.member);
  return values;
}

// The message of the ConfigError that `action` throws ("" and a failed check if none).
template <typename Action>
std::string config_error(Action&& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL_CHECK("no ConfigError was thrown");
  return "";
}

}  // namespace config_tests

using namespace config_tests;

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
  CHECK(c.norm() == NormKind::layer_norm);
  CHECK(c.ffn_biases());
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
      {{.d_model = int64_t{1} << 40}, {"d_model = 1099511627776", "at most 16777216"}},
      {{.ln_eps = 0.0}, {"ln_eps = 0;", "positive", "the locked model has ln_eps = 1e-05"}},
      {{.ln_eps = std::nan("")}, {"ln_eps = nan", "positive"}},
      {{.ln_eps = -INFINITY}, {"ln_eps = -inf", "finite"}},
      {{.rope_base = 1.0}, {"rope_base = 1;", "greater than 1", "the locked model has rope_base = 10000"}},
  };
  for (const Case& c : cases) {
    const std::string message = config_error([&] { MiniGPTConfig config(c.values); });
    INFO(message);
    for (const std::string& w : c.words) CHECK_THAT(message, Contains(w));
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

// ---------------------------------------------------------------------------------------------
// The table of fields
// ---------------------------------------------------------------------------------------------

TEST_CASE("config table: one row per member of ConfigValues, names unique", "[config]") {
  // config.cpp checks at compile time that the table has as many rows as the struct has
  // members; distinct member pointers then mean each member has exactly one row.
  std::set<std::string_view> names;
  for (const ConfigField& a : kConfigFields) {
    CHECK(names.insert(a.name).second);
    for (const ConfigField& b : kConfigFields) {
      if (&a != &b) CHECK_FALSE(a.member == b.member);
    }
  }
  CHECK(config_field_names() ==
        "d_model, n_heads, n_layers, d_ff, vocab_size, context_len, ln_eps, rope_base, gelu, "
        "norm, ffn_biases");
}

TEST_CASE("config table: every field is in ==, the differences and the text", "[config]") {
  const MiniGPTConfig locked;
  for (const ConfigField& field : kConfigFields) {
    const std::string name(field.name);
    INFO("field " << name);
    // Changing this field alone: == sees it, differing_fields names it and only it.
    const MiniGPTConfig other(with_field_changed(field));
    CHECK_FALSE(other == locked);
    const std::vector<FieldDifference> differences = differing_fields(other, locked);
    REQUIRE(differences.size() == 1);
    CHECK(differences[0].name == field.name);
    CHECK(differences[0].a == field_text(other.values(), field));
    CHECK(differences[0].b == field_text(locked.values(), field));

    // describe() shows the changed value (a variant field makes the line a variant's).
    CHECK_THAT(other.describe(), Contains(name + "=" + field_text(other.values(), field)));

    // Its text reads back to the same value.
    ConfigValues read_back;
    set_field_from_text(read_back, field, field_text(other.values(), field));
    CHECK(MiniGPTConfig(read_back) == other);
  }
}

TEST_CASE("config table: every field is validated, with its name and value in the message", "[config]") {
  for (const ConfigField& field : kConfigFields) {
    const std::string name(field.name);
    INFO("field " << name);
    if (field.rule == FieldRule::any_of_type) {
      // Every value of an enum or a bool is a model: the text is where a wrong value enters.
      ConfigValues values;
      CHECK_THAT(config_error([&] { set_field_from_text(values, field, "bogus"); }),
                 Contains(name + " = 'bogus'"));
      continue;
    }
    ConfigValues values;
    std::visit(  // 0 breaks the rule of every size and every real
        [&](auto member) {
          using Value = std::remove_reference_t<decltype(values.*member)>;
          if constexpr (std::is_same_v<Value, std::int64_t> || std::is_same_v<Value, double>) {
            values.*member = 0;
          }
        },
        field.member);
    CHECK_THAT(config_error([&] { MiniGPTConfig config(values); }),
               Contains("invalid config: " + name + " = 0;") && Contains("rule: " + name + " must be"));
  }
}

TEST_CASE("config text: the whole text must be the value", "[config]") {
  const auto field = [](std::string_view name) {
    return *std::find_if(std::begin(kConfigFields), std::end(kConfigFields),
                         [&](const ConfigField& f) { return f.name == name; });
  };
  ConfigValues values;
  CHECK_THAT(config_error([&] { set_field_from_text(values, field("d_model"), "64abc"); }),
             Contains("d_model = '64abc' is not an integer"));
  CHECK_THAT(config_error([&] { set_field_from_text(values, field("d_model"), " 64"); }),
             Contains("is not an integer"));
  CHECK_THAT(config_error([&] { set_field_from_text(values, field("ln_eps"), "small"); }),
             Contains("ln_eps = 'small' is not a number"));
  CHECK_THAT(config_error([&] { set_field_from_text(values, field("ffn_biases"), "true"); }),
             Contains("ffn_biases = 'true' is not 'yes' or 'no'"));
  set_field_from_text(values, field("ln_eps"), "3.3333333333333333e-06");
  CHECK(values.ln_eps == 1.0 / 3.0e5);
}

// ---------------------------------------------------------------------------------------------
// describe(): the header line of the labs
// ---------------------------------------------------------------------------------------------

TEST_CASE("describe: the locked line is as the lab references print it, a variant names norm and biases", "[config]") {
  const std::string locked =
      "d_model=64 n_heads=4 (d_head=16) n_layers=2 d_ff=256 vocab_size=64 context_len=32 "
      "ln_eps=1e-05 rope_base=10000 gelu=exact";
  CHECK(MiniGPTConfig().describe() == locked);
  // Not a variant field: the line keeps its shape.
  CHECK(MiniGPTConfig({.gelu = GeluForm::tanh}).describe() ==
        "d_model=64 n_heads=4 (d_head=16) n_layers=2 d_ff=256 vocab_size=64 context_len=32 "
        "ln_eps=1e-05 rope_base=10000 gelu=tanh");
  // Any variant field off the locked value: both are printed.
  CHECK(MiniGPTConfig({.norm = NormKind::rms_norm, .ffn_biases = false}).describe() ==
        locked + " norm=rmsnorm ffn_biases=no");
  CHECK(MiniGPTConfig({.norm = NormKind::rms_norm}).describe() == locked + " norm=rmsnorm ffn_biases=yes");
  CHECK(MiniGPTConfig({.ffn_biases = false}).describe() == locked + " norm=layernorm ffn_biases=no");
  // The doubles print in full, so two configs that differ never print the same line.
  CHECK_THAT(MiniGPTConfig({.ln_eps = 1.0 / 3.0e5}).describe(), Contains("ln_eps=3.3333333333333333e-06"));
}
