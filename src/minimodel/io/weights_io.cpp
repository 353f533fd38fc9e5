// Weights files and models: the config in __metadata__, the file's tensors against the
// registry's, and the copy. The format itself (parsing, validation, offsets, writing) is
// safetensors.cpp's, which knows nothing of a model.
#include "minimodel/io/weights_io.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "minimodel/errors.hpp"
#include "minimodel/io/safetensors.hpp"

namespace minimodel {

namespace fs = std::filesystem;

namespace {

using safetensors::fail;
using safetensors::FileSource;
using safetensors::Header;
using safetensors::kBytesPerF32;
using safetensors::MemorySource;
using safetensors::Metadata;
using safetensors::Problem;
using safetensors::read_f32_le;
using safetensors::TensorEntry;

// ---------------------------------------------------------------------------------------------
// The conventions written into every file
// ---------------------------------------------------------------------------------------------

constexpr std::string_view kFormatName = "minimodel-safetensors-v1";
// The config fields are kConfigFields (config.hpp): each is written as its field_text and read
// back with set_field_from_text, the text describe() prints. Two fields came after the first
// files were written (the committed fuzz corpus has such files): a file without them holds
// the locked model (CONVENTIONS.md §2), LayerNorm with biases, which are their defaults.
constexpr std::string_view kFieldsAddedLater[] = {"norm", "ffn_biases"};

// Runs one load operation and turns a Problem into a WeightsError naming `source`.
template <typename Operation>
auto reporting_problems_in(std::string_view source, Operation&& operation) {
  try {
    return operation();
  } catch (const Problem& problem) {
    throw WeightsError(fmt::format("cannot read weights file '{}': {}", source, problem.what()));
  }
}

// ---------------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------------

// The config, then the conventions a reader needs to use the numbers correctly. Safetensors
// metadata values must be strings, so every field is written as its text ("64", "1e-05",
// "rmsnorm", "no"), in table order.
std::vector<std::pair<std::string, std::string>> metadata_for(const MiniGPTConfig& config) {
  std::vector<std::pair<std::string, std::string>> metadata{{"format", std::string(kFormatName)}};
  for (const ConfigField& field : kConfigFields) {
    metadata.emplace_back(std::string(field.name), field_text(config.values(), field));
  }
  metadata.emplace_back("rope_pairing", "interleaved (2i, 2i+1)");
  metadata.emplace_back("linear_layout", "y = x·W + b, W is (d_in, d_out)");
  metadata.emplace_back("tied_lm_head", "logits = h·Eᵀ, head shares E");
  metadata.emplace_back("layer_norm", "biased variance, eps inside sqrt");
  return metadata;
}

// ---------------------------------------------------------------------------------------------
// Reading: the header
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Reading: the config in __metadata__
// ---------------------------------------------------------------------------------------------

bool metadata_has_config(const Header& header) {
  if (!header.metadata) return false;
  return std::any_of(std::begin(kConfigFields), std::end(kConfigFields),
                     [&](const ConfigField& f) { return header.metadata->count(f.name) != 0; });
}

bool added_later(std::string_view name) {
  return std::find(std::begin(kFieldsAddedLater), std::end(kFieldsAddedLater), name) !=
         std::end(kFieldsAddedLater);
}

MiniGPTConfig config_from_metadata(const Header& header) {
  if (!header.metadata) {
    fail("the file has no __metadata__, so it does not say which config built it; construct a "
         "MiniGPT with the right config and call load_safetensors_into instead");
  }
  const Metadata& metadata = *header.metadata;
  ConfigValues values;  // the defaults stand for the fields older files do not have
  try {
    for (const ConfigField& field : kConfigFields) {
      const auto it = metadata.find(field.name);
      if (it == metadata.end()) {
        if (added_later(field.name)) continue;
        fail("__metadata__ has no '{}'; a config needs {}", field.name, config_field_names());
      }
      set_field_from_text(values, field, it->second);
    }
    return MiniGPTConfig(values);
  } catch (const ConfigError& e) {
    fail("the config in __metadata__ is invalid: {}", e.what());
  }
}

// "vocab_size is 512 in the file but 64 in the model", or nothing when the configs agree.
std::optional<std::string> first_difference(const MiniGPTConfig& in_file,
                                            const MiniGPTConfig& in_model) {
  const std::vector<FieldDifference> differences = differing_fields(in_file, in_model);
  if (differences.empty()) return std::nullopt;
  const FieldDifference& first = differences.front();
  const std::size_t others = differences.size() - 1;
  return fmt::format("{} is {} in the file but {} in the model{}", first.name, first.a, first.b,
                     others == 0 ? std::string()
                                 : fmt::format(" (and {} other field{})", others, others == 1 ? "" : "s"));
}

// load_safetensors builds a model from the metadata before it can compare tensors, so a lying
// config must be caught first. The parameters it implies must be exactly the floats the file
// holds, which bounds the model by the real file size; the RoPE tables (context_len rows of
// d_head/2 pairs) are the one allocation the tensors do not bound, so they are capped too.
void check_config_fits_data(const MiniGPTConfig& config, std::uint64_t data_size) {
  const std::uint64_t floats_held = data_size / kBytesPerF32;
  // The count of the tensors the config implies, from the same modules the model builds (not
  // the closed form: that is a student's piece, and a formula to check, not to rely on).
  const std::optional<std::uint64_t> implied = MiniGPT::checked_parameter_count(config);
  if (implied != floats_held) {
    fail("the config in __metadata__ ({}) has {} parameters, but the file holds {} bytes of "
         "tensor data ({} floats); the metadata does not describe these tensors",
         config.describe(), implied ? fmt::format("{}", *implied) : std::string("more than 2^64"),
         data_size, floats_held);
  }
  const std::uint64_t rope_entries = config.context_len() * config.d_head();
  const std::uint64_t rope_limit = std::max<std::uint64_t>(floats_held, std::uint64_t{1} << 20);
  if (rope_entries > rope_limit) {
    fail("the config in __metadata__ has context_len = {} with d_head = {}: its RoPE tables "
         "would hold {} entries, far more than the model's {} parameters; the metadata is "
         "corrupt",
         config.context_len(), config.d_head(), rope_entries, floats_held);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading: the header against a model, then the copy
// ---------------------------------------------------------------------------------------------

void check_config_matches(const Header& header, const MiniGPTConfig& model_config) {
  // A file written by another tool may carry no config; the tensor checks still apply to it.
  if (!metadata_has_config(header)) return;
  const MiniGPTConfig file_config = config_from_metadata(header);
  if (const auto difference = first_difference(file_config, model_config)) {
    fail("the file was saved from a different config: {}; build the model from the file "
         "(load_safetensors, or read_safetensors_config) or load a file saved from this config",
         *difference);
  }
}

bool looks_like_a_head(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("head") != std::string::npos;
}

// The file's tensors must be exactly the registry's: the same names, each with its shape.
void check_tensors_match(const Header& header, const ParameterRegistry& registry) {
  // Missing names first, in registry order, so the message names the first one CONVENTIONS.md §9 lists.
  std::vector<std::string_view> missing;
  for (const Parameter& p : registry) {
    if (header.tensors.find(p.name) == header.tensors.end()) missing.push_back(p.name);
  }
  if (!missing.empty()) {
    fail("missing tensor '{}'{}; the model needs all {} tensors named in CONVENTIONS.md §9", missing.front(),
         missing.size() > 1 ? fmt::format(" (and {} more)", missing.size() - 1) : std::string(),
         registry.size());
  }
  for (const auto& [name, entry] : header.tensors) {
    if (registry.find(name) != nullptr) continue;
    if (looks_like_a_head(name)) {
      fail("unknown tensor '{}' — this model ties its head to E, so the file must not contain a "
           "separate head",
           name);
    }
    fail("unknown tensor '{}'; the model has no parameter of that name (CONVENTIONS.md §9 lists them)", name);
  }
  for (const Parameter& p : registry) {
    const TensorEntry& entry = header.tensors.find(p.name)->second;
    if (entry.shape != p.shape()) {
      fail("tensor '{}' has shape {} but the model's config expects {} (linear maps are stored "
           "(d_in, d_out))",
           p.name, format_shape(entry.shape), format_shape(p.shape()));
    }
  }
}

// A weight that is NaN or infinite would only show up as non-finite logits, far from its
// cause: a file holding one is refused here, naming the tensor and the entry.
void check_values_finite(const Header& header, std::span<const std::uint8_t> data, const ParameterRegistry& registry) {
  for (const Parameter& p : registry) {
    const std::uint8_t* bytes = data.data() + header.tensors.find(p.name)->second.begin;
    for (std::size_t i = 0; i < p.numel(); ++i) {
      const float value = read_f32_le(bytes + i * kBytesPerF32);
      if (!std::isfinite(value)) {
        fail("tensor '{}' holds {} at {}; every weight must be a finite number", p.name, value,
             format_index(i, p.shape()));
      }
    }
  }
}

// Only called once every check has passed: nothing here can fail half-way.
void copy_tensors(const Header& header, std::span<const std::uint8_t> data,
                  ParameterRegistry& registry) {
  for (Parameter& p : registry) {
    const TensorEntry& entry = header.tensors.find(p.name)->second;
    const std::uint8_t* bytes = data.data() + entry.begin;
    float* values = p.data();
    for (std::size_t i = 0; i < p.numel(); ++i) values[i] = read_f32_le(bytes + i * kBytesPerF32);
  }
}

// ---------------------------------------------------------------------------------------------
// Sources: a file on disk or a buffer in memory. Each parses the header at once and hands
// out the data buffer only when asked, after the header has passed the checks.
// ---------------------------------------------------------------------------------------------

// The load operations, the same for either source.
template <typename Source>
void load_into(MiniGPT& model, Source& source) {
  const Header& header = source.header();
  check_config_matches(header, model.config());
  check_tensors_match(header, model.parameters());
  const std::span<const std::uint8_t> data = source.data();  // read once (a file source reads it here)
  check_values_finite(header, data, model.parameters());
  copy_tensors(header, data, model.parameters());
}

template <typename Source>
MiniGPT load_model(Source& source) {
  const MiniGPTConfig config = config_from_metadata(source.header());
  check_config_fits_data(config, source.header().data_size);
  MiniGPT model(config);
  load_into(model, source);
  return model;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The public API
// ---------------------------------------------------------------------------------------------

std::vector<std::uint8_t> safetensors_bytes(const MiniGPT& model) {
  // The metadata first, then the tensors in registry order.
  std::vector<safetensors::TensorToWrite> tensors;
  for (const Parameter& p : model.parameters()) tensors.push_back({p.name, p.shape(), {p.data(), p.numel()}});
  return safetensors::encode(metadata_for(model.config()), tensors);
}

void save_safetensors(const MiniGPT& model, const fs::path& path) {
  safetensors::write_file_atomically(path, safetensors_bytes(model));
}

MiniGPTConfig read_safetensors_config(const fs::path& path) {
  return reporting_problems_in(path.string(), [&] {
    FileSource source(path);
    return config_from_metadata(source.header());
  });
}

MiniGPT load_safetensors(const fs::path& path) {
  return reporting_problems_in(path.string(), [&] {
    FileSource source(path);
    return load_model(source);
  });
}

void load_safetensors_into(MiniGPT& model, const fs::path& path) {
  reporting_problems_in(path.string(), [&] {
    FileSource source(path);
    load_into(model, source);
  });
}

MiniGPTConfig read_safetensors_config_from_bytes(std::span<const std::uint8_t> bytes,
                                                 std::string_view source_name) {
  return reporting_problems_in(source_name, [&] {
    MemorySource source(bytes);
    return config_from_metadata(source.header());
  });
}

MiniGPT load_safetensors_from_bytes(std::span<const std::uint8_t> bytes,
                                    std::string_view source_name) {
  return reporting_problems_in(source_name, [&] {
    MemorySource source(bytes);
    return load_model(source);
  });
}

void load_safetensors_into_from_bytes(MiniGPT& model, std::span<const std::uint8_t> bytes,
                                      std::string_view source_name) {
  reporting_problems_in(source_name, [&] {
    MemorySource source(bytes);
    load_into(model, source);
  });
}

}  // namespace minimodel
