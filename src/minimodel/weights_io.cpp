#include "minimodel/weights_io.hpp"

#include <unistd.h>  // getpid(): a temporary name that no other process will pick

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "minimodel/errors.hpp"

namespace minimodel {

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Limits and the conventions written into every file
// ---------------------------------------------------------------------------------------------

constexpr std::string_view kFormatName = "minimodel-safetensors-v1";
constexpr std::size_t kLengthPrefixBytes = 8;
constexpr std::uint64_t kBytesPerF32 = 4;
// The reference implementation refuses headers above 100 MB; ours are a few kilobytes. The
// cap (with "no longer than the file") keeps a lying length from driving an allocation.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A header is three levels deep (object -> entry -> shape). Refusing much deeper documents
// early keeps a hostile file from making the parser build a huge nested tree.
constexpr int kMaxJsonDepth = 8;

// The config fields are kConfigFields (config.hpp): each is written as its field_text and read
// back with set_field_from_text, the text describe() prints. Two fields came after the first
// files were written (the committed fuzz corpus has such files): a file without them holds
// the locked model (CONVENTIONS.md §2), LayerNorm with biases, which are their defaults.
constexpr std::string_view kFieldsAddedLater[] = {"norm", "ffn_biases"};

// ---------------------------------------------------------------------------------------------
// Problems: what the checks throw before the file's name is known to them
// ---------------------------------------------------------------------------------------------

// A problem with a file's contents. The public functions add the file's name and rethrow it
// as one WeightsError, so each check below only has to say what is wrong and how to fix it.
class Problem : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Problem(fmt::format(format, std::forward<Args>(args)...));
}

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
// Little-endian bytes, spelled out so the file is the same on a big-endian machine
// ---------------------------------------------------------------------------------------------

void append_u64_le(std::vector<std::uint8_t>& out, std::uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * byte)));
  }
}

std::uint64_t read_u64_le(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  for (int byte = 7; byte >= 0; --byte) value = (value << 8) | bytes[byte];
  return value;
}

// A float goes through its uint32 bit pattern: memcpy is the defined way to see those bits.
void append_f32_le(std::vector<std::uint8_t>& out, float value) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int byte = 0; byte < 4; ++byte) out.push_back(static_cast<std::uint8_t>(bits >> (8 * byte)));
}

float read_f32_le(const std::uint8_t* bytes) {
  const std::uint32_t bits =
      static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
      static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
  float value = 0.0f;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Saving
// ---------------------------------------------------------------------------------------------

// The config, then the conventions a reader needs to use the numbers correctly. Safetensors
// metadata values must be strings, so every field is written as its text ("64", "1e-05",
// "rmsnorm", "no"), in table order.
nlohmann::ordered_json metadata_for(const MiniGPTConfig& config) {
  nlohmann::ordered_json metadata;
  metadata["format"] = std::string(kFormatName);
  for (const ConfigField& field : kConfigFields) {
    metadata[std::string(field.name)] = field_text(config.values(), field);
  }
  metadata["rope_pairing"] = "interleaved (2i, 2i+1)";
  metadata["linear_layout"] = "y = x·W + b, W is (d_in, d_out)";
  metadata["tied_lm_head"] = "logits = h·Eᵀ, head shares E";
  metadata["layer_norm"] = "biased variance, eps inside sqrt";
  return metadata;
}

// Writes `bytes` to a temporary file beside `path`, then renames it into place: a rename
// within one directory is atomic, so `path` is either the old file or the complete new one.
[[noreturn]] void abandon_save(const fs::path& path, const fs::path& temp,
                               std::string_view reason) {
  std::error_code ignored;
  fs::remove(temp, ignored);
  throw WeightsError(fmt::format("cannot save weights to '{}': {}", path.string(), reason));
}

void write_file_atomically(const fs::path& path, std::span<const std::uint8_t> bytes) {
  static std::atomic<unsigned> saves_in_this_process{0};
  fs::path temp = path;
  temp += fmt::format(".tmp-{}-{}", ::getpid(), saves_in_this_process++);

  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) {
    const int err = errno;
    abandon_save(path, temp,
                 fmt::format("cannot create '{}': {} (does the directory exist, and may you write "
                             "to it?)",
                             temp.string(), std::strerror(err)));
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
    const int err = errno;
    std::fclose(file);
    abandon_save(path, temp,
                 fmt::format("writing '{}' failed: {}", temp.string(), std::strerror(err)));
  }
  // fclose flushes the buffer, so a full disk may only show up here.
  if (std::fclose(file) != 0) {
    const int err = errno;
    abandon_save(path, temp,
                 fmt::format("writing '{}' failed: {}", temp.string(), std::strerror(err)));
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    abandon_save(path, temp,
                 fmt::format("cannot move '{}' into place: {}", temp.string(), ec.message()));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading: the header
// ---------------------------------------------------------------------------------------------

using Metadata = std::map<std::string, std::string, std::less<>>;

// One tensor's entry in the header, checked on its own (not yet against a model).
struct TensorEntry {
  std::string name;
  Shape shape;
  std::uint64_t begin = 0, end = 0;  // byte range within the data buffer
};

struct Header {
  std::optional<Metadata> metadata;
  std::map<std::string, TensorEntry, std::less<>> tensors;  // by name
  std::uint64_t data_size = 0;                              // bytes after the header
};

// Checks the 8-byte length prefix against the size of the whole file and returns N, the
// header length. `start` holds the file's first min(8, file_size) bytes.
std::uint64_t check_header_length(std::span<const std::uint8_t> start, std::uint64_t file_size) {
  if (file_size == 0) {
    fail("the file is empty (0 bytes); a safetensors file starts with an 8-byte header length "
         "(was the save interrupted?)");
  }
  if (file_size < kLengthPrefixBytes) {
    fail("the file is only {} bytes long, shorter than the 8-byte header length every "
         "safetensors file starts with; it is truncated",
         file_size);
  }
  const std::uint64_t length = read_u64_le(start.data());
  if (length > kMaxHeaderBytes) {
    fail("the header length prefix says {} bytes, above the {}-byte limit for a safetensors "
         "header; this is not a safetensors file, or its first 8 bytes are damaged",
         length, kMaxHeaderBytes);
  }
  if (length > file_size - kLengthPrefixBytes) {
    fail("the header length prefix says {} bytes but only {} bytes follow it; the file is "
         "truncated or not a safetensors file",
         length, file_size - kLengthPrefixBytes);
  }
  return length;
}

// nlohmann::json keeps only the last of two equal keys. Safetensors forbids duplicates, and a
// silent pick between two tensors of one name would load numbers nobody chose. This parse
// watches every key as it is read and stops at the first repeat; it also stops documents
// nested deeper than any header could be.
json parse_json_rejecting_duplicates(std::string_view text) {
  struct OpenObject {
    std::string name;  // the key this object is the value of ("" at the top)
    std::set<std::string, std::less<>> keys;
    std::string last_key;
  };
  std::vector<OpenObject> open;

  const auto report_duplicate = [&open](const std::string& key) {
    if (open.size() == 1) {
      if (key == "__metadata__") fail("'__metadata__' appears twice in the header");
      fail("tensor '{}' appears twice in the header; each name may appear only once", key);
    }
    const std::string& owner = open.back().name;
    if (open.size() == 2 && owner == "__metadata__") {
      fail("metadata key '{}' appears twice in __metadata__", key);
    }
    fail("key '{}' appears twice in the entry for '{}'", key, owner);
  };

  const auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          fail("the header JSON is nested more than {} levels deep; a safetensors header has "
               "three (object, tensor entry, shape)",
               kMaxJsonDepth);
        }
        if (event == json::parse_event_t::object_start) {
          open.push_back({open.empty() ? std::string() : open.back().last_key, {}, {}});
        }
        break;
      case json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!open.back().keys.insert(key).second) report_duplicate(key);
        open.back().last_key = key;
        break;
      }
      case json::parse_event_t::object_end: open.pop_back(); break;
      default: break;
    }
    return true;  // keep every value
  };

  try {
    return json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& e) {
    // Mostly parse_error (with the line and column), but a number such as 1e999 is reported
    // as out_of_range: both mean the header is not JSON this file can hold.
    fail("the header is not valid JSON: {}", e.what());
  }
}

Metadata read_metadata(const json& value) {
  if (!value.is_object()) {
    fail("__metadata__ is a JSON {}; it must be an object mapping strings to strings",
         value.type_name());
  }
  Metadata metadata;
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string()) {
      fail("__metadata__ value for '{}' is a JSON {}, but safetensors metadata values must be "
           "strings (write \"64\", not 64)",
           key, text.type_name());
    }
    metadata.emplace(key, text.get<std::string>());
  }
  return metadata;
}

const json& required_field(const json& entry, const std::string& tensor, const char* field) {
  const auto it = entry.find(field);
  if (it == entry.end()) {
    fail("tensor '{}' has no '{}' (an entry needs dtype, shape and data_offsets)", tensor, field);
  }
  return *it;
}

// JSON integers >= 0 (nlohmann stores them as unsigned); floats, negatives and text are not.
std::optional<std::uint64_t> as_count(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

Shape read_shape(const std::string& tensor, const json& value) {
  if (!value.is_array()) {
    fail("tensor '{}' has a shape that is a JSON {}; it must be an array of non-negative "
         "integers",
         tensor, value.type_name());
  }
  Shape shape;
  for (const json& dim : value) {
    const std::optional<std::uint64_t> size = as_count(dim);
    if (!size) {
      fail("tensor '{}' has shape {}; every dimension must be a non-negative integer", tensor,
           value.dump());
    }
    shape.push_back(*size);
  }
  return shape;
}

// The number of floats in `shape`, refused before it could overflow a byte count.
std::uint64_t element_count(const std::string& tensor, const Shape& shape) {
  constexpr std::uint64_t kMaxElements = std::numeric_limits<std::uint64_t>::max() / kBytesPerF32;
  std::uint64_t count = 1;
  for (const std::uint64_t dim : shape) {
    if (dim != 0 && count > kMaxElements / dim) {
      fail("tensor '{}' has shape {}, too many elements for any file", tensor, format_shape(shape));
    }
    count *= dim;
  }
  return count;
}

// Checks one entry on its own: dtype, shape, and offsets that fit the data buffer and match
// the shape's size.
TensorEntry read_entry(const std::string& name, const json& entry, std::uint64_t data_size) {
  if (!entry.is_object()) {
    fail("the entry for tensor '{}' is a JSON {}; it must be an object with dtype, shape and "
         "data_offsets",
         name, entry.type_name());
  }
  const json& dtype = required_field(entry, name, "dtype");
  if (!dtype.is_string()) {
    fail("tensor '{}' has a dtype that is a JSON {}, not a string", name, dtype.type_name());
  }
  if (dtype.get_ref<const std::string&>() != "F32") {
    fail("tensor '{}' has dtype {}; this workbook reads F32 only (convert the weights to "
         "float32 before saving)",
         name, dtype.get_ref<const std::string&>());
  }

  TensorEntry t;
  t.name = name;
  t.shape = read_shape(name, required_field(entry, name, "shape"));
  const std::uint64_t bytes = element_count(name, t.shape) * kBytesPerF32;

  const json& offsets = required_field(entry, name, "data_offsets");
  const std::optional<std::uint64_t> begin =
      offsets.is_array() && offsets.size() == 2 ? as_count(offsets[0]) : std::nullopt;
  const std::optional<std::uint64_t> end =
      offsets.is_array() && offsets.size() == 2 ? as_count(offsets[1]) : std::nullopt;
  if (!begin || !end) {
    fail("tensor '{}' has data_offsets {}; they must be two non-negative integers [begin, end]",
         name, offsets.dump());
  }
  t.begin = *begin;
  t.end = *end;
  if (t.begin > t.end) {
    fail("tensor '{}' has data_offsets [{}, {}]: begin is after end", name, t.begin, t.end);
  }
  if (t.end > data_size) {
    fail("tensor '{}' has data_offsets [{}, {}] but the data buffer holds only {} bytes; the "
         "file is truncated or its offsets are wrong",
         name, t.begin, t.end, data_size);
  }
  if (t.end - t.begin != bytes) {
    fail("tensor '{}' has shape {}, which is {} bytes of F32, but its data_offsets [{}, {}] "
         "span {} bytes",
         name, format_shape(t.shape), bytes, t.begin, t.end, t.end - t.begin);
  }
  return t;
}

// Safetensors requires the tensors to tile the data buffer: no byte shared by two tensors (a
// write to one would change the other) and no byte that belongs to none.
void check_tensors_tile_buffer(const Header& header) {
  std::vector<const TensorEntry*> by_offset;
  for (const auto& [name, entry] : header.tensors) by_offset.push_back(&entry);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });

  std::uint64_t covered = 0;  // bytes [0, covered) belong to the tensors seen so far
  const TensorEntry* previous = nullptr;
  for (const TensorEntry* t : by_offset) {
    if (t->begin < covered) {
      fail("tensors '{}' (bytes [{}, {})) and '{}' (bytes [{}, {})) overlap in the data buffer; "
           "each tensor needs bytes of its own",
           previous->name, previous->begin, previous->end, t->name, t->begin, t->end);
    }
    if (t->begin > covered) {
      fail("bytes [{}, {}) of the data buffer belong to no tensor; safetensors requires the "
           "tensors to cover the buffer with no gaps",
           covered, t->begin);
    }
    covered = t->end;
    previous = t;
  }
  if (covered != header.data_size) {
    fail("the data buffer holds {} bytes but the tensors cover only the first {}; the last {} "
         "bytes belong to no tensor",
         header.data_size, covered, header.data_size - covered);
  }
}

// Everything that can be checked without a model: JSON, metadata, each entry, the tiling.
Header parse_header(std::string_view text, std::uint64_t data_size) {
  const json document = parse_json_rejecting_duplicates(text);
  if (!document.is_object()) {
    fail("the header is a JSON {}, not an object of tensor entries", document.type_name());
  }
  Header header;
  header.data_size = data_size;
  for (const auto& [name, value] : document.items()) {
    if (name == "__metadata__") {
      header.metadata = read_metadata(value);
    } else {
      header.tensors.emplace(name, read_entry(name, value, data_size));
    }
  }
  check_tensors_tile_buffer(header);
  return header;
}

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

std::string_view as_text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

class MemorySource {
 public:
  explicit MemorySource(std::span<const std::uint8_t> bytes) {
    const std::uint64_t length =
        check_header_length(bytes.first(std::min(bytes.size(), kLengthPrefixBytes)), bytes.size());
    const std::span<const std::uint8_t> text = bytes.subspan(kLengthPrefixBytes, length);
    data_ = bytes.subspan(kLengthPrefixBytes + length);
    header_ = parse_header(as_text(text), data_.size());
  }
  const Header& header() const { return header_; }
  std::span<const std::uint8_t> data() { return data_; }

 private:
  Header header_;
  std::span<const std::uint8_t> data_;
};

class FileSource {
 public:
  explicit FileSource(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) fail("it is a directory, not a weights file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) {
      const int err = errno;
      fail("cannot open it: {}", std::strerror(err));
    }
    const std::uint64_t file_size = fs::file_size(path, ec);
    if (ec) fail("cannot tell its size: {}", ec.message());

    std::uint8_t prefix[kLengthPrefixBytes] = {};
    const std::size_t prefix_size =
        static_cast<std::size_t>(std::min<std::uint64_t>(file_size, kLengthPrefixBytes));
    read_exactly(prefix, prefix_size, "header length");
    const std::uint64_t length = check_header_length({prefix, prefix_size}, file_size);

    // Bounded by the cap and by the real file size, never by the prefix alone.
    std::string text(static_cast<std::size_t>(length), '\0');
    read_exactly(text.data(), text.size(), "header");
    header_ = parse_header(text, file_size - kLengthPrefixBytes - length);
  }
  const Header& header() const { return header_; }

  // Read only after the header has been checked against the model, so the size is that of
  // the model's parameters. Read whole before any copy, so a read error leaves the model as
  // it was.
  std::span<const std::uint8_t> data() {
    data_.resize(static_cast<std::size_t>(header_.data_size));
    read_exactly(data_.data(), data_.size(), "tensor data");
    return data_;
  }

 private:
  void read_exactly(void* buffer, std::size_t size, std::string_view what) {
    if (std::fread(buffer, 1, size, file_.get()) == size) return;
    const int err = errno;
    if (std::ferror(file_.get())) fail("reading its {} failed: {}", what, std::strerror(err));
    fail("the file ended inside its {}; it changed while being read", what);
  }

  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file_;
  Header header_;
  std::vector<std::uint8_t> data_;
};

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
  // Header: metadata first, then the tensors in registry order, packed back to back.
  nlohmann::ordered_json header;
  header["__metadata__"] = metadata_for(model.config());
  std::uint64_t offset = 0;
  for (const Parameter& p : model.parameters()) {
    const std::uint64_t bytes = p.numel() * kBytesPerF32;
    nlohmann::ordered_json entry;
    entry["dtype"] = "F32";
    entry["shape"] = p.shape();
    entry["data_offsets"] = nlohmann::ordered_json::array({offset, offset + bytes});
    header[p.name] = std::move(entry);
    offset += bytes;
  }
  std::string text = header.dump();
  // Trailing spaces are allowed in the header; they make the data start on an 8-byte
  // boundary, so a reader that maps the file can view the floats in place.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<std::uint8_t> out;
  out.reserve(kLengthPrefixBytes + text.size() + offset);
  append_u64_le(out, text.size());
  out.insert(out.end(), text.begin(), text.end());
  for (const Parameter& p : model.parameters()) {
    const float* values = p.data();
    for (std::size_t i = 0; i < p.numel(); ++i) append_f32_le(out, values[i]);
  }
  return out;
}

void save_safetensors(const MiniGPT& model, const fs::path& path) {
  write_file_atomically(path, safetensors_bytes(model));
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
