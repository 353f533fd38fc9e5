#pragma once
// The config as JSON, so that a results file (--json) says which model ran, and so that a
// config can be read back from one. Both directions loop over kConfigFields (config.hpp).
//
// Each field has its JSON type: sizes are integers, ln_eps and rope_base numbers, gelu and
// norm the names describe() prints ("exact", "rmsnorm"), ffn_biases true or false. The
// derived values (d_head) are written too, for the reader's convenience; they are not fields.
//
// The locked model:
//   {"context_len":32,"d_ff":256,"d_head":16,"d_model":64,"ffn_biases":true,"gelu":"exact",
//    "ln_eps":1e-05,"n_heads":4,"n_layers":2,"norm":"layernorm","rope_base":10000.0,
//    "vocab_size":64}
#include <nlohmann/json_fwd.hpp>

#include "minimodel/config.hpp"

namespace minimodel {

// Every field and every derived value, by name.
nlohmann::json config_to_json(const MiniGPTConfig& config);

// The inverse: config_from_json(config_to_json(c)) == c for every valid c. Throws one
// ConfigError naming the first problem: not a JSON object, an unknown key, a missing field, a
// value of the wrong JSON type, a derived value that disagrees with the fields (d_head may be
// left out), or a config that fails validation (the constructor's message).
MiniGPTConfig config_from_json(const nlohmann::json& json);

}  // namespace minimodel
