#pragma once
// A student's file is untrusted text (docs/grading.md): it may be binary junk, a
// 100 MB file, one line of a million characters or not UTF-8. labdiff and labgrade read every
// lab output through these functions, so that such a file gets a verdict that says what it is
// instead of an exception, a long stall or a terminal full of bytes.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace labdiff {

// The largest lab output read: 8 MiB, about 250 times the largest reference output (lab 00's,
// 32 KB). A larger file is not read past this size: it is "not a lab output".
inline constexpr std::size_t kMaxOutputBytes = 8u << 20;
// The most lines a lab output may have: 100,000, about 220 times lab 00's 446. It also bounds
// the work of aligning two outputs (compare.cpp): the diff's cost grows with the product of
// the longer file's lines and the number of differences.
inline constexpr std::size_t kMaxOutputLines = 100'000;

// What makes `text` something other than a lab output, or nothing when it is one: a NUL byte
// or another control character (binary data), an invalid UTF-8 sequence, more than
// kMaxOutputLines lines. Names the line and column (1-based, in bytes) of the first bad byte.
std::optional<std::string> text_problem(std::string_view text);

// A lab output read from a file: its text (a leading UTF-8 byte order mark removed), or what
// is wrong with it (`problem`: too large, binary, not UTF-8, too many lines; `text` is empty).
// An I/O error (no such file, a directory, a failed read) throws std::runtime_error naming the
// path, as read_text_file does.
struct LabText {
  std::string text;
  std::optional<std::string> problem;
};
LabText read_lab_output(const std::filesystem::path& path, std::size_t max_bytes = kMaxOutputBytes);

// `s` made safe to print on one terminal line: bytes that are not printable UTF-8 are written
// \xNN, and past `max_chars` characters the rest is replaced by "… (N more bytes)".
std::string printable(std::string_view s, std::size_t max_chars = 240);

// "8.0 MiB", "12 bytes": a size for a message.
std::string format_size(std::size_t bytes);

}  // namespace labdiff
