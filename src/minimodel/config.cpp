#include "minimodel/config.hpp"

#include <cmath>
#include <fmt/format.h>

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

// Sizes above this are a typo, not a model: a d_model of 2^31 would try to allocate
// exabytes. The bound keeps every product of two sizes far from overflow.
constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;

void require_size(const char* field, std::int64_t value) {
  if (value < 1) {
    throw ConfigError(fmt::format("invalid config: {} = {}; rule: {} must be a positive integer",
                                  field, value, field));
  }
  if (value > kMaxSize) {
    throw ConfigError(fmt::format("invalid config: {} = {}; rule: {} must be at most {}", field,
                                  value, field, kMaxSize));
  }
}

}  // namespace

MiniGPTConfig::MiniGPTConfig() : MiniGPTConfig(ConfigValues{}) {}

MiniGPTConfig::MiniGPTConfig(const ConfigValues& values) : v_(values) {
  require_size("d_model", v_.d_model);
  require_size("n_heads", v_.n_heads);
  require_size("n_layers", v_.n_layers);
  require_size("d_ff", v_.d_ff);
  require_size("vocab_size", v_.vocab_size);
  require_size("context_len", v_.context_len);
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
  // Written as !(x > 0) so that NaN fails too.
  if (!(v_.ln_eps > 0.0) || !std::isfinite(v_.ln_eps)) {
    throw ConfigError(fmt::format("invalid config: ln_eps = {}; rule: ln_eps must be a finite "
                                  "positive number (the SPEC uses 1e-5)",
                                  v_.ln_eps));
  }
  if (!(v_.rope_base > 1.0) || !std::isfinite(v_.rope_base)) {
    throw ConfigError(fmt::format("invalid config: rope_base = {}; rule: rope_base must be a "
                                  "finite number greater than 1 (the SPEC uses 10000)",
                                  v_.rope_base));
  }
}

std::string MiniGPTConfig::describe() const {
  return fmt::format(
      "d_model={} n_heads={} (d_head={}) n_layers={} d_ff={} vocab_size={} context_len={} "
      "ln_eps={:g} rope_base={:g} gelu={}{}{}",
      d_model(), n_heads(), d_head(), n_layers(), d_ff(), vocab_size(), context_len(), ln_eps(),
      rope_base(), to_string(gelu()),
      // The SPEC's choices are not spelled out, so the locked model's line stays as it was.
      norm() == NormKind::layer_norm ? "" : " norm=rmsnorm", ffn_biases() ? "" : " ffn_biases=no");
}

bool operator==(const MiniGPTConfig& a, const MiniGPTConfig& b) {
  const ConfigValues& x = a.v_;
  const ConfigValues& y = b.v_;
  return x.d_model == y.d_model && x.n_heads == y.n_heads && x.n_layers == y.n_layers &&
         x.d_ff == y.d_ff && x.vocab_size == y.vocab_size && x.context_len == y.context_len &&
         x.ln_eps == y.ln_eps && x.rope_base == y.rope_base && x.gelu == y.gelu &&
         x.norm == y.norm && x.ffn_biases == y.ffn_biases;
}

}  // namespace minimodel
