#pragma once
// Reading a lab output or chapter, and writing a result file, for labdiff and labgrade.
#include <filesystem>
#include <string>
#include <string_view>

namespace labdiff {

// The whole file as text. A directory is refused by name (an ifstream would open it and read
// it as empty, so two directories would "match"); std::runtime_error names the path and why.
std::string read_text_file(const std::filesystem::path& path);

// Writes through a temporary beside the file and a rename, so a failure leaves neither a
// partial file nor the temporary. std::runtime_error names the path and why.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace labdiff
