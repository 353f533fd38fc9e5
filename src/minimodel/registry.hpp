#pragma once
// The parameter registry: the one table of names, shapes, init rules and storage (CONVENTIONS.md §9, init §10).
//
// The model allocates every tensor here, in data-flow order; counting, printing, saving and
// loading all read this table, so a second list of names can never drift from it.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/tensor.hpp"

namespace minimodel {

// "Simple Gaussian" init: N(0, std²), or a constant 0 or 1.
struct InitRule {
  enum class Kind { normal, zeros, ones };
  Kind kind;
  double std = 0.0;

  static InitRule normal(double std) { return {Kind::normal, std}; }
  static InitRule zeros() { return {Kind::zeros, 0.0}; }
  static InitRule ones() { return {Kind::ones, 0.0}; }
};

struct Parameter {
  std::string name;         // the parameter name (CONVENTIONS.md §9), e.g. "block_0.attn.W_q"
  InitRule init;
  xt::xarray<float> value;  // row-major; linear maps are (d_in, d_out)

  Shape shape() const { return Shape(value.shape().begin(), value.shape().end()); }
  std::size_t numel() const { return value.size(); }
  float* data() { return value.data(); }
  const float* data() const { return value.data(); }
};

class ParameterRegistry {
 public:
  ParameterRegistry() = default;
  // A registry that records names and shapes but allocates no storage (every value stays
  // empty): the table of a config, read before deciding to build its model.
  struct ShapesOnly {};
  explicit ParameterRegistry(ShapesOnly) : allocate_(false) {}

  // Allocates a parameter, filled with its constant (ones or zeros; a normal one is zero
  // until initialize()); a shapes-only registry records the shape alone. A repeated name is an Error.
  Parameter& add(std::string name, const Shape& shape, InitRule init);

  Parameter& at(std::string_view name);              // Error naming `name` when absent
  const Parameter& at(std::string_view name) const;
  const Parameter* find(std::string_view name) const;  // nullptr when absent

  // Registration order, which is the order of CONVENTIONS.md §9.
  auto begin() const { return params_.begin(); }
  auto end() const { return params_.end(); }
  auto begin() { return params_.begin(); }
  auto end() { return params_.end(); }
  std::size_t size() const { return params_.size(); }

  // Sum of the element counts of the registered tensors.
  std::size_t total_count() const;
  // The same from the registered shapes, allocated or not, in checked arithmetic: std::nullopt
  // when the count does not fit 64 bits.
  std::optional<std::uint64_t> checked_count() const;

  // Draws every parameter from its own stream of (seed, name); constants for the rest.
  void initialize(std::uint64_t seed);

 private:
  // A deque: references to its elements stay valid as parameters are added and when the
  // registry is moved, and the modules hold such references.
  std::deque<Parameter> params_;
  std::vector<Shape> shapes_;  // every registered shape, in registration order
  bool allocate_ = true;
};

// |θ| = V·d + L·(4d² + 2·d·d_ff + d_ff + d + 4d) + 2d, evaluated for any config: the number
// the counted tensors are checked against, never a stand-in for them. For the variants,
// RMSNorm has d parameters instead of 2d, and without FFN biases d_ff + d drop out.
std::size_t closed_form_parameter_count(const MiniGPTConfig& config);

}  // namespace minimodel
