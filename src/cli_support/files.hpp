#pragma once
// Files the labs and the tools write whole.
#include <filesystem>
#include <string_view>

namespace cli_support {

// Writes `content` through a temporary beside the file and a rename, so a failure leaves
// neither a partial file nor the temporary. Throws std::runtime_error naming the path and why.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace cli_support
