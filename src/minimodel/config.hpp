#pragma once
// MiniGPTConfig: the sizes and conventions of the model, validated when built (CONVENTIONS.md §2).
//
// The fields are listed once, in kConfigFields below. Everything that must touch every field
// loops over that table: validation, ==, describe() (the header line the labs print), the
// JSON of --json (config_json.hpp) and the safetensors metadata (weights_io.cpp). Adding a
// field is a member of ConfigValues plus one row of the table; no other list exists to forget.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace minimodel {

// Which GELU the FFN uses. The locked model (CONVENTIONS.md §4) uses the exact form x·Φ(x); tanh is the
// approximation GPT-2 shipped with, kept as a named option so the two can be compared.
enum class GeluForm { exact, tanh };

std::string_view to_string(GeluForm form);
GeluForm gelu_form_from_string(std::string_view text);  // "exact" | "tanh", else ConfigError

// Which normalisation the blocks and the final norm use. The locked model (CONVENTIONS.md §3) uses LayerNorm
// (gamma and beta); RMSNorm (gain only, no mean subtraction) is the variant the course
// compares it with, kept so that its parameters can be counted from real tensors.
enum class NormKind { layer_norm, rms_norm };

std::string_view to_string(NormKind kind);                // "layernorm" | "rmsnorm"
NormKind norm_kind_from_string(std::string_view text);    // else ConfigError

// The raw values, before validation. Sizes are signed so that a negative number typed on a
// command line is reported as negative instead of wrapping to a huge unsigned value.
// The defaults are the locked configuration. Members are in table order, so a designated
// initializer such as ConfigValues{.d_model = 8, .n_heads = 2} may name any of them.
struct ConfigValues {
  std::int64_t d_model = 64;      // width of the residual stream
  std::int64_t n_heads = 4;       // attention heads, each d_head = d_model / n_heads wide
  std::int64_t n_layers = 2;      // transformer blocks
  std::int64_t d_ff = 256;        // hidden width of the FFN
  std::int64_t vocab_size = 64;   // tokens; E is (vocab_size, d_model)
  std::int64_t context_len = 32;  // longest sequence: rows of the RoPE tables
  double ln_eps = 1e-5;           // inside the square root of the norm
  double rope_base = 10000.0;     // theta_i = rope_base^(-2i/d_head)
  GeluForm gelu = GeluForm::exact;
  NormKind norm = NormKind::layer_norm;
  bool ffn_biases = true;         // b_1 and b_2 (attention has no biases in any variant)
};

// ---------------------------------------------------------------------------------------------
// The table of fields
// ---------------------------------------------------------------------------------------------
//
// Why a table of descriptors and not an X-macro: a macro could also declare the members, but
// then the struct above would be invisible to a reader (and to an editor's "go to
// definition"), every compile error would point into a macro expansion, and the comments on
// each member would have nowhere to live. Here the struct stays plain C++ and the table is
// plain data, like a list of dicts in Python: one row per field, read by ordinary loops.
// config.cpp checks at compile time that the table has one row per member.
//
// A row holds: the name (printed, and the key in JSON and metadata); which member, as a
// pointer-to-member, which also gives the type (values.*member reads the field of `values`);
// the rule the value must satisfy on its own; and when describe() prints it. The default is
// the struct's initialiser above, read as ConfigValues{}.*member, so it is written once.

// A pointer to one member of ConfigValues, of any of the types the fields have.
using FieldMember = std::variant<std::int64_t ConfigValues::*, double ConfigValues::*,
                                 GeluForm ConfigValues::*, NormKind ConfigValues::*,
                                 bool ConfigValues::*>;

// What a field's value must satisfy by itself. Rules between fields (d_model divisible by
// n_heads, d_head even) are checked after these, in the MiniGPTConfig constructor.
enum class FieldRule {
  size,          // an integer from 1 to 2^24
  positive,      // a finite number > 0
  above_one,     // a finite number > 1
  any_of_type,   // every value of its enum or bool is a model
};

// When describe() prints a field.
enum class Shown {
  always,
  // Only when some variant field differs from the locked model, and then all of them. The
  // locked model's line stays as it was before the variants existed (lab reference outputs
  // print it); a variant's line states both its norm and its biases.
  for_variants,
};

// "a, b, c": the names of a table's rows (kConfigFields, kDerivedValues), for messages.
// (A loop, not fmt::join over std::views::transform: clang 14, the fuzz preset's compiler,
// cannot compile libstdc++ 12's ranges.)
template <class Row, std::size_t N>
std::string names_of(const Row (&rows)[N]) {
  std::string names;
  for (const Row& row : rows) {
    if (!names.empty()) names += ", ";
    names += row.name;
  }
  return names;
}

struct ConfigField {
  std::string_view name;
  FieldMember member;
  FieldRule rule;
  Shown shown;
};

inline constexpr ConfigField kConfigFields[] = {
    // name          member                       rule                    describe()
    {"d_model",      &ConfigValues::d_model,      FieldRule::size,        Shown::always},
    {"n_heads",      &ConfigValues::n_heads,      FieldRule::size,        Shown::always},
    {"n_layers",     &ConfigValues::n_layers,     FieldRule::size,        Shown::always},
    {"d_ff",         &ConfigValues::d_ff,         FieldRule::size,        Shown::always},
    {"vocab_size",   &ConfigValues::vocab_size,   FieldRule::size,        Shown::always},
    {"context_len",  &ConfigValues::context_len,  FieldRule::size,        Shown::always},
    {"ln_eps",       &ConfigValues::ln_eps,       FieldRule::positive,    Shown::always},
    {"rope_base",    &ConfigValues::rope_base,    FieldRule::above_one,   Shown::always},
    {"gelu",         &ConfigValues::gelu,         FieldRule::any_of_type, Shown::always},
    {"norm",         &ConfigValues::norm,         FieldRule::any_of_type, Shown::for_variants},
    {"ffn_biases",   &ConfigValues::ffn_biases,   FieldRule::any_of_type, Shown::for_variants},
};

// "d_model, n_heads, ..., ffn_biases": the table's names, for messages that list the fields.
std::string config_field_names();

// A field's value as text: "64", "1e-05" (the shortest text that reads back as the same
// double), "exact", "rmsnorm", "yes"/"no". describe() prints it after "name=", the safetensors
// metadata stores it, and messages about a field quote it.
std::string field_text(const ConfigValues& values, const ConfigField& field);

// Reads such text into the field of `values`. The whole text must be the value ("64abc" and
// " 64" are refused); ConfigError names the field, the text and what was expected. The value
// is not validated here: the MiniGPTConfig constructor does that for every field at once.
void set_field_from_text(ConfigValues& values, const ConfigField& field, std::string_view text);

class MiniGPTConfig {
 public:
  // The locked configuration: d_model 64, 4 heads, 2 layers, d_ff 256, vocab 64, context 32.
  MiniGPTConfig();
  // Validates every field; throws ConfigError naming the field, the value and the rule.
  explicit MiniGPTConfig(const ConfigValues& values);

  std::size_t d_model() const { return static_cast<std::size_t>(v_.d_model); }
  std::size_t n_heads() const { return static_cast<std::size_t>(v_.n_heads); }
  std::size_t d_head() const { return d_model() / n_heads(); }
  std::size_t n_layers() const { return static_cast<std::size_t>(v_.n_layers); }
  std::size_t d_ff() const { return static_cast<std::size_t>(v_.d_ff); }
  std::size_t vocab_size() const { return static_cast<std::size_t>(v_.vocab_size); }
  std::size_t context_len() const { return static_cast<std::size_t>(v_.context_len); }
  double ln_eps() const { return v_.ln_eps; }
  double rope_base() const { return v_.rope_base; }
  GeluForm gelu() const { return v_.gelu; }
  NormKind norm() const { return v_.norm; }
  bool ffn_biases() const { return v_.ffn_biases; }

  const ConfigValues& values() const { return v_; }

  // One line, "name=value" for each field of the table, with the derived values in brackets
  // after the field they follow. The locked model's line:
  //   d_model=64 n_heads=4 (d_head=16) n_layers=2 d_ff=256 vocab_size=64 context_len=32 ln_eps=1e-05 rope_base=10000 gelu=exact
  // A variant adds "norm=... ffn_biases=..." (see Shown::for_variants).
  std::string describe() const;

  // Equal when every field of the table is equal.
  friend bool operator==(const MiniGPTConfig& a, const MiniGPTConfig& b);

 private:
  ConfigValues v_;
};

// Values computed from the fields, not fields themselves: they cannot be set, only read.
// describe() prints each in brackets after the field `after`; the JSON records them too, so a
// reader of a results file need not divide.
struct DerivedValue {
  std::string_view name;
  std::string_view after;
  std::size_t (MiniGPTConfig::*value)() const;
};

inline constexpr DerivedValue kDerivedValues[] = {
    {"d_head", "n_heads", &MiniGPTConfig::d_head},
};

// One field where two configs differ, with each side's value as field_text prints it.
struct FieldDifference {
  std::string_view name;
  std::string a, b;
};

// Every field where `a` and `b` differ, in table order (empty when a == b).
std::vector<FieldDifference> differing_fields(const MiniGPTConfig& a, const MiniGPTConfig& b);

}  // namespace minimodel
