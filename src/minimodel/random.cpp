#include "minimodel/random.hpp"

#include <cmath>
#include <numbers>

namespace minimodel {

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t SplitMix64::next() {
  state_ += 0x9E3779B97F4A7C15ULL;  // the golden-ratio increment
  return mix64(state_);
}

double SplitMix64::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xCBF29CE484222325ULL;  // FNV offset basis
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001B3ULL;  // FNV prime
  }
  return hash;
}

std::uint64_t stream_seed(std::uint64_t model_seed, std::string_view parameter_name) {
  // Mixing the seed first keeps seeds 1 and 2 from giving streams that differ in one bit.
  return mix64(mix64(model_seed) ^ fnv1a64(parameter_name));
}

double NormalSampler::next() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
  const double u1 = 1.0 - uniform_.uniform();
  const double u2 = uniform_.uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  spare_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

void fill_normal(std::span<float> out, double std, std::uint64_t model_seed,
                 std::string_view parameter_name) {
  NormalSampler normal(stream_seed(model_seed, parameter_name));
  for (float& value : out) {
    value = static_cast<float>(std * normal.next());
  }
}

}  // namespace minimodel
