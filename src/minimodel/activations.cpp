#include "minimodel/activations.hpp"

#include <fmt/format.h>


namespace minimodel {

BlockActivations& ActivationRecord::block(std::size_t i) {
  if (blocks.size() <= i) blocks.resize(i + 1);
  return blocks[i];
}

std::string first_missing(const BlockActivations& a, std::string_view block) {
  std::string missing;
  for_each_activation(a, [&](std::string_view name, const Matrix& m) {
    if (missing.empty() && m.size() == 0) missing = fmt::format("{}.{}", block, name);
  });
  if (missing.empty() && a.ln1_stats.rstd.empty()) missing = fmt::format("{}.ln1 statistics", block);
  if (missing.empty() && a.ln2_stats.rstd.empty()) missing = fmt::format("{}.ln2 statistics", block);
  return missing;
}

}  // namespace minimodel
