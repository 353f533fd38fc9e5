#pragma once
// Portable random numbers for initialisation (CONVENTIONS.md §10).
//
// Written out here instead of std::normal_distribution or xt::random because those produce
// different values under different standard libraries; these produce the same bits
// everywhere (integer arithmetic, then IEEE double operations).
//
// Each parameter draws from its own stream, seeded by (model seed, parameter name), so a
// value does not depend on the order in which parameters are built.
#include <cstdint>
#include <span>
#include <string_view>

namespace minimodel {

// SplitMix64 (Steele, Lea & Flood, 2014): a 64-bit counter passed through a mixing function.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t state) : state_(state) {}
  std::uint64_t next();
  // Uniform in [0, 1) with 53 random bits: exactly representable doubles k / 2^53.
  double uniform();

 private:
  std::uint64_t state_;
};

// The SplitMix64 output function on its own: a good 64-bit mixer.
std::uint64_t mix64(std::uint64_t z);

// FNV-1a over the bytes of a name: a fixed, documented hash (std::hash is not portable).
std::uint64_t fnv1a64(std::string_view bytes);

// The seed of one parameter's stream.
std::uint64_t stream_seed(std::uint64_t model_seed, std::string_view parameter_name);

// Standard normal numbers by the Box–Muller transform, two per pair of uniforms.
class NormalSampler {
 public:
  explicit NormalSampler(std::uint64_t seed) : uniform_(seed) {}
  double next();

 private:
  SplitMix64 uniform_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Fills `out` with N(0, std²) values from the stream of (model_seed, parameter_name).
void fill_normal(std::span<float> out, double std, std::uint64_t model_seed,
                 std::string_view parameter_name);

}  // namespace minimodel
