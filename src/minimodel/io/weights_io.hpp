#pragma once
// A model's weights in the safetensors format (the format alone: safetensors.hpp).
//
// This project writes F32 little-endian, the parameter names of CONVENTIONS.md §9, shapes as held ((d_in, d_out) for
// linear maps). The tied head is not a tensor of its own: only `E` is stored. __metadata__
// records the config and the conventions, so another tool can rebuild the model from the file.
//
// Every loader validates the whole file before it touches a model: a malformed or mismatched
// file is one WeightsError that names the file, the problem and, where possible, the fix.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/model.hpp"

namespace minimodel {

// Writes every registered parameter. Writes to a temporary file beside `path` and renames it,
// so a failure never leaves a partial file. Throws WeightsError on an I/O failure.
void save_safetensors(const MiniGPT& model, const std::filesystem::path& path);

// Reads the config recorded in a file's __metadata__ (validated like any config).
MiniGPTConfig read_safetensors_config(const std::filesystem::path& path);

// Rebuilds a model from the file alone: config from __metadata__, then every tensor.
MiniGPT load_safetensors(const std::filesystem::path& path);

// Loads every tensor into an existing model. Every name, shape, dtype and offset is checked
// before anything is copied, so on error (WeightsError) the model is unchanged.
void load_safetensors_into(MiniGPT& model, const std::filesystem::path& path);

// The same operations on a whole file held in memory, for tests and the fuzz target.
// `source` is the name the error messages use for the bytes.
std::vector<std::uint8_t> safetensors_bytes(const MiniGPT& model);
MiniGPTConfig read_safetensors_config_from_bytes(std::span<const std::uint8_t> bytes,
                                                 std::string_view source = "<memory>");
MiniGPT load_safetensors_from_bytes(std::span<const std::uint8_t> bytes,
                                    std::string_view source = "<memory>");
void load_safetensors_into_from_bytes(MiniGPT& model, std::span<const std::uint8_t> bytes,
                                      std::string_view source = "<memory>");

}  // namespace minimodel
