#pragma once
// The safetensors format (https://github.com/huggingface/safetensors), with no knowledge of
// any model: the 8-byte length prefix, the JSON header (metadata, and for each tensor its
// dtype, shape and byte offsets), the checks every file must pass on its own, the data buffer,
// and writing a file. Binding a file's tensors to a model's parameters is weights_io.cpp's.
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   a JSON object: "__metadata__" (string -> string) and, for each tensor,
//             "name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
//   the rest  the tensor bytes, offsets relative to the end of the header
//
// Only F32 is read or written. A check that fails throws safetensors::Problem, saying what is
// wrong with the contents; the caller adds the file's name.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "minimodel/tensor.hpp"

namespace minimodel::safetensors {

namespace fs = std::filesystem;

constexpr std::size_t kLengthPrefixBytes = 8;
constexpr std::uint64_t kBytesPerF32 = 4;

// A problem with a file's contents. The public functions add the file's name and rethrow it
// as one WeightsError, so each check only has to say what is wrong and how to fix it.
class Problem : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Problem with the formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Problem(fmt::format(format, std::forward<Args>(args)...));
}

// A little-endian float32, as the data buffer holds it.
float read_f32_le(const std::uint8_t* bytes);

// ---------------------------------------------------------------------------------------------
// Reading
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
std::uint64_t check_header_length(std::span<const std::uint8_t> start, std::uint64_t file_size);

// Everything that can be checked without a model: JSON (no duplicate keys, bounded depth),
// metadata (strings only), each entry (F32, shape, offsets that fit the buffer and the shape),
// and that the tensors tile the data buffer.
Header parse_header(std::string_view text, std::uint64_t data_size);

// Sources: a file on disk or a buffer in memory. Each parses the header at once and hands
// out the data buffer only when asked, after the header has passed the caller's checks.

inline std::string_view as_text(std::span<const std::uint8_t> bytes) {
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


// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

struct TensorToWrite {
  std::string_view name;
  Shape shape;
  std::span<const float> values;  // as many as the shape holds
};

// A whole file: the metadata (written in the order given), then the tensors, packed back to
// back in the order given, after a header padded with spaces to a multiple of 8 bytes.
std::vector<std::uint8_t> encode(const std::vector<std::pair<std::string, std::string>>& metadata,
                                 std::span<const TensorToWrite> tensors);

// Writes `bytes` to a temporary file beside `path`, then renames it into place: a rename
// within one directory is atomic, so `path` is either the old file or the complete new one.
// Throws WeightsError on an I/O failure, after removing the temporary file.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace minimodel::safetensors
