#include "minimodel/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <iterator>
#include <type_traits>

#include "minimodel/errors.hpp"

namespace minimodel {

std::string_view to_string(GeluForm form) {
  return form == GeluForm::exact ? "exact" : "tanh";
}

GeluForm gelu_form_from_string(std::string_view text) {
  if (text == "exact") return GeluForm::exact;
  if (text == "tanh") return GeluForm::tanh;
  throw ConfigError(fmt::format("gelu = '{}' is not a GELU form: use 'exact' (x·Φ(x)) or 'tanh'", text));
}

std::string_view to_string(NormKind kind) {
  return kind == NormKind::layer_norm ? "layernorm" : "rmsnorm";
}

NormKind norm_kind_from_string(std::string_view text) {
  if (text == "layernorm") return NormKind::layer_norm;
  if (text == "rmsnorm") return NormKind::rms_norm;
  throw ConfigError(fmt::format("norm = '{}' is not a normalisation: use 'layernorm' or 'rmsnorm'", text));
}

namespace {

// ---------------------------------------------------------------------------------------------
// The table is complete and consistent: checked when this file compiles
// ---------------------------------------------------------------------------------------------

// C++ cannot list a struct's members, so this structured binding names them by hand: it
// compiles only while ConfigValues has exactly 11 members. A member added without a row in
// kConfigFields stops the build here (or at the static_assert below), not in a test run.
constexpr std::size_t kMembersOfConfigValues = [] {
  [[maybe_unused]] const auto& [d_model, n_heads, n_layers, d_ff, vocab_size, context_len, ln_eps,
                                rope_base, gelu, norm, ffn_biases] = ConfigValues{};
  return 11;
}();
static_assert(std::size(kConfigFields) == kMembersOfConfigValues,
              "every member of ConfigValues needs one row in kConfigFields");

// Each rule applies to one type: a size rule on a double would be a typo in the table.
constexpr bool rule_fits_type(const ConfigField& field) {
  switch (field.rule) {
    case FieldRule::size: return std::holds_alternative<std::int64_t ConfigValues::*>(field.member);
    case FieldRule::positive:
    case FieldRule::above_one: return std::holds_alternative<double ConfigValues::*>(field.member);
    case FieldRule::any_of_type:
      return !std::holds_alternative<std::int64_t ConfigValues::*>(field.member) &&
             !std::holds_alternative<double ConfigValues::*>(field.member);
  }
  return false;
}
static_assert(std::all_of(std::begin(kConfigFields), std::end(kConfigFields), rule_fits_type),
              "a row of kConfigFields has a rule that does not fit its member's type");

// ---------------------------------------------------------------------------------------------
// Each member type as text, one overload per type
// ---------------------------------------------------------------------------------------------

// fmt's "{}" prints the shortest text that reads back as the same double: "1e-05" and "10000",
// not "1.0000000000000001e-05", so text written into a file round-trips exactly.
std::string text_of(std::int64_t value) { return fmt::format("{}", value); }
std::string text_of(double value) { return fmt::format("{}", value); }
std::string text_of(GeluForm value) { return std::string(to_string(value)); }
std::string text_of(NormKind value) { return std::string(to_string(value)); }
std::string text_of(bool value) { return value ? "yes" : "no"; }

// from_chars reads a number only if it is the whole text: "64abc" and " 64" are refused.
template <typename Number>
void read_number(std::string_view name, std::string_view text, std::string_view kind,
                 Number& out) {
  Number value{};
  const char* last = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), last, value);
  if (ec != std::errc() || stop != last) {
    throw ConfigError(fmt::format("{} = '{}' is not {}", name, text, kind));
  }
  out = value;
}

void read_text(std::string_view name, std::string_view text, std::int64_t& out) {
  read_number(name, text, "an integer", out);
}
void read_text(std::string_view name, std::string_view text, double& out) {
  read_number(name, text, "a number", out);
}
// The enums' own parsers name the field and the accepted names.
void read_text(std::string_view, std::string_view text, GeluForm& out) {
  out = gelu_form_from_string(text);
}
void read_text(std::string_view, std::string_view text, NormKind& out) {
  out = norm_kind_from_string(text);
}
void read_text(std::string_view name, std::string_view text, bool& out) {
  if (text != "yes" && text != "no") {
    throw ConfigError(fmt::format("{} = '{}' is not 'yes' or 'no'", name, text));
  }
  out = text == "yes";
}

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

// Sizes above this are a typo, not a model: a d_model of 2^31 would try to allocate
// exabytes. The bound keeps every product of two sizes far from overflow.
constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;

std::string rule_text(FieldRule rule) {
  switch (rule) {
    case FieldRule::size: return fmt::format("a positive integer, at most {} (2^24)", kMaxSize);
    case FieldRule::positive: return "a finite positive number";
    case FieldRule::above_one: return "a finite number greater than 1";
    case FieldRule::any_of_type: return "one of its named values";
  }
  return "";
}

// Written as !(x > 0) so that NaN fails too.
bool holds(FieldRule rule, std::int64_t value) {
  return rule != FieldRule::size || (value >= 1 && value <= kMaxSize);
}
bool holds(FieldRule rule, double value) {
  if (!std::isfinite(value)) return false;
  if (rule == FieldRule::positive) return value > 0.0;
  if (rule == FieldRule::above_one) return value > 1.0;
  return true;
}
// An enum or a bool holds one of its values by construction.
template <typename Named>
bool holds(FieldRule, Named) {
  return true;
}

// "invalid config: d_model = 0; rule: d_model must be a positive integer, at most 16777216
// (2^24); the locked model has d_model = 64"
void check_rule(const ConfigField& field, const ConfigValues& values) {
  std::visit(
      [&](auto member) {
        if (holds(field.rule, values.*member)) return;
        throw ConfigError(fmt::format(
            "invalid config: {} = {}; rule: {} must be {}; the locked model has {} = {}",
            field.name, text_of(values.*member), field.name, rule_text(field.rule), field.name,
            text_of(ConfigValues{}.*member)));
      },
      field.member);
}

bool same_value(const ConfigField& field, const ConfigValues& a, const ConfigValues& b) {
  return std::visit([&](auto member) { return a.*member == b.*member; }, field.member);
}

// Whether this config is one of the variants: some Shown::for_variants field is not the
// locked model's.
bool is_variant(const ConfigValues& values) {
  const ConfigValues locked;
  return std::any_of(std::begin(kConfigFields), std::end(kConfigFields), [&](const ConfigField& f) {
    return f.shown == Shown::for_variants && !same_value(f, values, locked);
  });
}

}  // namespace

std::string config_field_names() { return names_of(kConfigFields); }

std::string field_text(const ConfigValues& values, const ConfigField& field) {
  return std::visit([&](auto member) { return text_of(values.*member); }, field.member);
}

void set_field_from_text(ConfigValues& values, const ConfigField& field, std::string_view text) {
  std::visit([&](auto member) { read_text(field.name, text, values.*member); }, field.member);
}

MiniGPTConfig::MiniGPTConfig() : MiniGPTConfig(ConfigValues{}) {}

MiniGPTConfig::MiniGPTConfig(const ConfigValues& values) : v_(values) {
  // Each field on its own, in table order: the first broken rule is the one reported.
  for (const ConfigField& field : kConfigFields) check_rule(field, v_);

  // Then the rules that tie two fields together.
  if (v_.d_model % v_.n_heads != 0) {
    throw ConfigError(fmt::format(
        "invalid config: d_model = {} with n_heads = {}; rule: d_model must be divisible by "
        "n_heads (heads are equal column blocks of width d_head = d_model / n_heads)",
        v_.d_model, v_.n_heads));
  }
  const std::int64_t d_head = v_.d_model / v_.n_heads;
  if (d_head % 2 != 0) {
    throw ConfigError(fmt::format(
        "invalid config: d_head = d_model / n_heads = {} / {} = {}; rule: d_head must be even "
        "(RoPE rotates pairs of dimensions)",
        v_.d_model, v_.n_heads, d_head));
  }
}

std::string MiniGPTConfig::describe() const {
  const bool variant = is_variant(v_);
  std::string line;
  for (const ConfigField& field : kConfigFields) {
    if (field.shown == Shown::for_variants && !variant) continue;
    if (!line.empty()) line += ' ';
    line += fmt::format("{}={}", field.name, field_text(v_, field));
    for (const DerivedValue& derived : kDerivedValues) {
      if (derived.after == field.name) {
        line += fmt::format(" ({}={})", derived.name, (this->*derived.value)());
      }
    }
  }
  return line;
}

bool operator==(const MiniGPTConfig& a, const MiniGPTConfig& b) {
  return std::all_of(std::begin(kConfigFields), std::end(kConfigFields),
                     [&](const ConfigField& f) { return same_value(f, a.v_, b.v_); });
}

std::vector<FieldDifference> differing_fields(const MiniGPTConfig& a, const MiniGPTConfig& b) {
  std::vector<FieldDifference> differences;
  for (const ConfigField& field : kConfigFields) {
    if (!same_value(field, a.values(), b.values())) {
      differences.push_back({field.name, field_text(a.values(), field), field_text(b.values(), field)});
    }
  }
  return differences;
}

}  // namespace minimodel
