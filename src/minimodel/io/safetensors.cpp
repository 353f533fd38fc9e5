#include "minimodel/io/safetensors.hpp"

#include <unistd.h>  // getpid(): a temporary name that no other process will pick

#include <algorithm>
#include <atomic>
#include <limits>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "minimodel/errors.hpp"

namespace minimodel::safetensors {

namespace {

using nlohmann::json;

// The reference implementation refuses headers above 100 MB; ours are a few kilobytes. The
// cap (with "no longer than the file") keeps a lying length from driving an allocation.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A header is three levels deep (object -> entry -> shape). Refusing much deeper documents
// early keeps a hostile file from making the parser build a huge nested tree.
constexpr int kMaxJsonDepth = 8;

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

}  // namespace

float read_f32_le(const std::uint8_t* bytes) {
  const std::uint32_t bits =
      static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
      static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
  float value = 0.0f;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

namespace {

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

}  // namespace

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
// Writing
// ---------------------------------------------------------------------------------------------

std::vector<std::uint8_t> encode(const std::vector<std::pair<std::string, std::string>>& metadata,
                                 std::span<const TensorToWrite> tensors) {
  nlohmann::ordered_json header;
  nlohmann::ordered_json& meta = header["__metadata__"];
  for (const auto& [key, value] : metadata) meta[key] = value;
  std::uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    const std::uint64_t bytes = t.values.size() * kBytesPerF32;
    nlohmann::ordered_json entry;
    entry["dtype"] = "F32";
    entry["shape"] = t.shape;
    entry["data_offsets"] = nlohmann::ordered_json::array({offset, offset + bytes});
    header[std::string(t.name)] = std::move(entry);
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
  for (const TensorToWrite& t : tensors) {
    for (const float value : t.values) append_f32_le(out, value);
  }
  return out;
}

namespace {

[[noreturn]] void abandon_save(const fs::path& path, const fs::path& temp,
                               std::string_view reason) {
  std::error_code ignored;
  fs::remove(temp, ignored);
  throw WeightsError(fmt::format("cannot save weights to '{}': {}", path.string(), reason));
}

}  // namespace

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


}  // namespace minimodel::safetensors
