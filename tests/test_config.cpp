// MiniGPTConfig: the locked defaults, validation at construction (CONVENTIONS.md §2), and the table of
// fields (kConfigFields) that drives validation, ==, describe() and the JSON.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "minimodel/config.hpp"
#include "minimodel/config_json.hpp"
#include "minimodel/errors.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;

namespace config_tests {

// Every kind of config the course builds: the locked model, its variants, and sizes and
// conventions off the locked values (an ln_eps that is not a short decimal included).
std::vector<MiniGPTConfig> all_variants() {
  return {
      MiniGPTConfig(),
      MiniGPTConfig({.norm = NormKind::rms_norm}),
      MiniGPTConfig({.ffn_biases = false}),
      MiniGPTConfig({.norm = NormKind::rms_norm, .ffn_biases = false}),
      MiniGPTConfig({.vocab_size = 512, .norm = NormKind::rms_norm, .ffn_biases = false}),
      MiniGPTConfig({.gelu = GeluForm::tanh}),
      MiniGPTConfig({.d_model = 32, .n_heads = 2, .n_layers = 3, .d_ff = 48, .vocab_size = 64,
                     .context_len = 16, .ln_eps = 1.0 / 3.0e5, .rope_base = 500.0,
                     .gelu = GeluForm::tanh, .norm = NormKind::rms_norm, .ffn_biases = false}),
  };
}

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

nlohmann::json locked_json() { return config_to_json(MiniGPTConfig()); }

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

TEST_CASE("config table: every field is in the JSON, ==, the differences and the text", "[config]") {
  const MiniGPTConfig locked;
  const nlohmann::json json = config_to_json(locked);
  for (const ConfigField& field : kConfigFields) {
    const std::string name(field.name);
    INFO("field " << name);
    CHECK(json.contains(name));

    // Changing this field alone: == sees it, differing_fields names it and only it, the JSON
    // of the two configs differs at its key.
    const MiniGPTConfig other(with_field_changed(field));
    CHECK_FALSE(other == locked);
    const std::vector<FieldDifference> differences = differing_fields(other, locked);
    REQUIRE(differences.size() == 1);
    CHECK(differences[0].name == field.name);
    CHECK(differences[0].a == field_text(other.values(), field));
    CHECK(differences[0].b == field_text(locked.values(), field));
    CHECK(config_to_json(other)[name] != json[name]);

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

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

TEST_CASE("config JSON: the locked model and the lab 02 variant, exactly", "[config]") {
  CHECK(config_to_json(MiniGPTConfig()).dump() ==
        R"({"context_len":32,"d_ff":256,"d_head":16,"d_model":64,"ffn_biases":true,"gelu":"exact",)"
        R"("ln_eps":1e-05,"n_heads":4,"n_layers":2,"norm":"layernorm","rope_base":10000.0,"vocab_size":64})");
  // lab02 --norm rmsnorm --no-biases
  CHECK(config_to_json(MiniGPTConfig({.norm = NormKind::rms_norm, .ffn_biases = false})).dump() ==
        R"({"context_len":32,"d_ff":256,"d_head":16,"d_model":64,"ffn_biases":false,"gelu":"exact",)"
        R"("ln_eps":1e-05,"n_heads":4,"n_layers":2,"norm":"rmsnorm","rope_base":10000.0,"vocab_size":64})");
}

TEST_CASE("config JSON: every variant round-trips through the text", "[config]") {
  for (const MiniGPTConfig& config : all_variants()) {
    INFO(config.describe());
    const std::string text = config_to_json(config).dump();
    const MiniGPTConfig read = config_from_json(nlohmann::json::parse(text));
    CHECK(read == config);
    CHECK(differing_fields(read, config).empty());
    CHECK(read.describe() == config.describe());
  }
  // d_head is derived: it may be left out.
  nlohmann::json without_d_head = locked_json();
  without_d_head.erase("d_head");
  CHECK(config_from_json(without_d_head) == MiniGPTConfig());
  // A real-valued field may be written as a JSON integer.
  nlohmann::json integer_base = locked_json();
  integer_base["rope_base"] = 10000;
  CHECK(config_from_json(integer_base) == MiniGPTConfig());
}

TEST_CASE("config JSON: a bad document is one ConfigError that says what is wrong", "[config]") {
  nlohmann::json json = locked_json();
  const auto error = [&] { return config_error([&] { config_from_json(json); }); };

  SECTION("not an object") {
    json = nlohmann::json::array({64, 4});
    CHECK_THAT(error(), Contains("config JSON is a JSON array, not an object with the fields d_model, "));
  }
  SECTION("a missing field") {
    json.erase("norm");
    CHECK_THAT(error(), Contains("config JSON has no 'norm'; a config needs every field: d_model,"));
  }
  SECTION("every field, missing") {
    for (const ConfigField& field : kConfigFields) {
      json = locked_json();
      json.erase(std::string(field.name));
      CHECK_THAT(error(), Contains(fmt::format("has no '{}'", field.name)));
    }
  }
  SECTION("an unknown field") {
    json["dropout"] = 0.1;
    CHECK_THAT(error(), Contains("config JSON has an unknown key 'dropout'; the fields are d_model,") &&
                            Contains("(and d_head, derived from them)"));
  }
  SECTION("a misspelt field is unknown, not silently ignored") {
    json.erase("n_layers");
    json["n_layer"] = 2;
    CHECK_THAT(error(), Contains("unknown key 'n_layer'"));
  }
  SECTION("a size as a string") {
    json["d_model"] = "64";
    CHECK_THAT(error(), Contains(R"(config JSON has d_model = "64", a JSON string; d_model must be a JSON integer, such as 64)"));
  }
  SECTION("a size with a fraction") {
    json["d_ff"] = 256.5;
    CHECK_THAT(error(), Contains("d_ff = 256.5, a JSON number; d_ff must be a JSON integer"));
  }
  SECTION("a size too large for any integer") {
    json["vocab_size"] = nlohmann::json::parse("18446744073709551615");
    CHECK_THAT(error(), Contains("vocab_size = 18446744073709551615, too large for a 64-bit integer"));
  }
  SECTION("a number as a string") {
    json["ln_eps"] = "1e-5";
    CHECK_THAT(error(), Contains(R"(ln_eps = "1e-5", a JSON string; ln_eps must be a JSON number, such as 1e-05)"));
  }
  SECTION("a bool as yes/no text") {
    json["ffn_biases"] = "no";
    CHECK_THAT(error(), Contains(R"(ffn_biases = "no", a JSON string; ffn_biases must be a JSON boolean, such as true)"));
  }
  SECTION("a name that is not a string") {
    json["norm"] = nullptr;
    CHECK_THAT(error(), Contains(R"(norm = null, a JSON null; norm must be a JSON string, such as "layernorm")"));
  }
  SECTION("a name that is not one of the choices") {
    json["gelu"] = "relu";
    CHECK_THAT(error(), Contains("gelu = 'relu' is not a GELU form"));
  }
  SECTION("a value its rule refuses") {
    json["n_heads"] = 0;
    CHECK_THAT(error(), Contains("invalid config: n_heads = 0; rule: n_heads must be a positive integer"));
  }
  SECTION("a derived value that disagrees with the fields") {
    json["d_head"] = 8;
    CHECK_THAT(error(), Contains("config JSON has d_head = 8, but its fields give d_head = 16; d_head "
                                 "is derived, not set"));
  }
}
