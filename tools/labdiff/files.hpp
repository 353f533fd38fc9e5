#pragma once
// Reading a lab output or chapter, for labdiff and labgrade (they write files with
// cli_support::write_file_atomically).
#include <filesystem>
#include <string>

namespace labdiff {

// The whole file as text. A directory is refused by name (an ifstream would open it and read
// it as empty, so two directories would "match"); std::runtime_error names the path and why.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace labdiff
