#include "text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace labdiff {

namespace {

// Length of the valid UTF-8 sequence that starts at s[i], or 0 when it is not one (a stray
// continuation byte, a sequence cut short, an overlong form, a surrogate, past U+10FFFF): the
// rules of RFC 3629, section 4.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) low = 0xA0;   // overlong
    if (b0 == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) low = 0x90;   // overlong
    if (b0 == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F; }

}  // namespace

std::optional<std::string> text_problem(std::string_view text) {
  std::size_t line = 1, line_start = 0, i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const std::size_t column = i - line_start + 1;
    if (c == '\n') {
      if (line == kMaxOutputLines && i + 1 < text.size()) {
        return fmt::format("more than {} lines: not a lab output (the longest has a few hundred)", kMaxOutputLines);
      }
      ++line;
      line_start = ++i;
      continue;
    }
    if (c == 0) return fmt::format("binary data: a NUL byte at line {}, column {}", line, column);
    if (is_control(c)) {
      return fmt::format("binary data: the control byte 0x{:02X} at line {}, column {}", c, line, column);
    }
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return fmt::format("not UTF-8 text: the byte 0x{:02X} at line {}, column {}", c, line, column);
    i += n;
  }
  return std::nullopt;
}

LabText read_lab_output(const std::filesystem::path& path, std::size_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw std::runtime_error(fmt::format("cannot read '{}': it is a directory, not a lab output", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
  LabText result;
  // Read at most one byte more than allowed: enough to know the file is too large, whatever its
  // size (a FIFO or /dev/zero has no size to ask for first).
  std::string& text = result.text;
  const std::uintmax_t size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : max_bytes;
  text.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(ec ? max_bytes : size, max_bytes)) + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw std::runtime_error(fmt::format("cannot read '{}': the read failed", path.string()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    result.problem = fmt::format("too large: {}, and a lab output is at most {}: not read",
                                 size > max_bytes && !ec ? format_size(static_cast<std::size_t>(size))
                                                         : "more than " + format_size(max_bytes),
                                 format_size(max_bytes));
    text.clear();
    text.shrink_to_fit();
    return result;
  }
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // a byte order mark an editor added
  result.problem = text_problem(text);
  if (result.problem) text.clear();
  return result;
}

std::string printable(std::string_view s, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0, i = 0;
  while (i < s.size()) {
    if (chars == max_chars) {
      out += fmt::format("… ({} more bytes)", s.size() - i);
      break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c == '\t' ? 1 : (is_control(c) || c == '\n' || c == '\r') ? 0 : utf8_length(s, i);
    if (n == 0) {
      out += fmt::format("\\x{:02X}", c);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

std::string format_size(std::size_t bytes) {
  if (bytes < 1024) return fmt::format("{} byte{}", bytes, bytes == 1 ? "" : "s");
  if (bytes < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace labdiff
