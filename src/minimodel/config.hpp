#pragma once
// MiniGPTConfig: the sizes and conventions of the model, validated when built (SPEC §2).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace minimodel {

// Which GELU the FFN uses. The SPEC's model uses the exact form x·Φ(x); tanh is the
// approximation GPT-2 shipped with, kept as a named option so the two can be compared.
enum class GeluForm { exact, tanh };

std::string_view to_string(GeluForm form);
GeluForm gelu_form_from_string(std::string_view text);  // "exact" | "tanh", else ConfigError

// Which normalisation the blocks and the final norm use. The SPEC's model uses LayerNorm
// (gamma and beta); RMSNorm (gain only, no mean subtraction) is the variant the course
// compares it with, kept so that its parameters can be counted from real tensors.
enum class NormKind { layer_norm, rms_norm };

std::string_view to_string(NormKind kind);                // "layernorm" | "rmsnorm"
NormKind norm_kind_from_string(std::string_view text);    // else ConfigError

// The raw values, before validation. Sizes are signed so that a negative number typed on a
// command line is reported as negative instead of wrapping to a huge unsigned value.
struct ConfigValues {
  std::int64_t d_model = 64;
  std::int64_t n_heads = 4;
  std::int64_t n_layers = 2;
  std::int64_t d_ff = 256;
  std::int64_t vocab_size = 64;
  std::int64_t context_len = 32;
  double ln_eps = 1e-5;        // inside the square root of LayerNorm
  double rope_base = 10000.0;  // theta_i = rope_base^(-2i/d_head)
  GeluForm gelu = GeluForm::exact;
  NormKind norm = NormKind::layer_norm;
  bool ffn_biases = true;      // b_1 and b_2 (attention has no biases in any variant)
};

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

  // One line, e.g. "d_model=64 n_heads=4 (d_head=16) n_layers=2 d_ff=256 vocab_size=64 ..."
  std::string describe() const;

  friend bool operator==(const MiniGPTConfig& a, const MiniGPTConfig& b);

 private:
  ConfigValues v_;
};

}  // namespace minimodel
