#include "minimodel/registry.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "minimodel/errors.hpp"
#include "minimodel/random.hpp"

namespace minimodel {

Parameter& ParameterRegistry::add(std::string name, const Shape& shape, InitRule init) {
  if (find(name) != nullptr) {
    throw Error(fmt::format("parameter '{}' is registered twice", name));
  }
  Parameter& p = params_.emplace_back();
  p.name = std::move(name);
  p.init = init;
  shapes_.push_back(shape);
  if (!allocate_) return p;
  // Constants (gamma = 1, biases = 0) hold from the start; random draws wait for initialize().
  p.value = p.init.kind == InitRule::Kind::ones ? xt::ones<float>(shape) : xt::zeros<float>(shape);
  return p;
}

const Parameter* ParameterRegistry::find(std::string_view name) const {
  const auto it = std::find_if(params_.begin(), params_.end(),
                               [&](const Parameter& p) { return p.name == name; });
  return it == params_.end() ? nullptr : &*it;
}

const Parameter& ParameterRegistry::at(std::string_view name) const {
  const Parameter* p = find(name);
  if (p == nullptr) throw Error(fmt::format("no parameter named '{}'", name));
  return *p;
}

Parameter& ParameterRegistry::at(std::string_view name) {
  return const_cast<Parameter&>(std::as_const(*this).at(name));
}

std::size_t ParameterRegistry::total_count() const {
  std::size_t total = 0;
  for (const Parameter& p : params_) total += p.numel();
  return total;
}

std::optional<std::uint64_t> ParameterRegistry::checked_count() const {
  std::uint64_t total = 0;
  for (const Shape& shape : shapes_) {
    std::uint64_t n = 1;
    for (const std::size_t extent : shape) {
      if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(extent), &n)) return std::nullopt;
    }
    if (__builtin_add_overflow(total, n, &total)) return std::nullopt;
  }
  return total;
}

void ParameterRegistry::initialize(std::uint64_t seed) {
  for (Parameter& p : params_) {
    switch (p.init.kind) {
      case InitRule::Kind::normal:
        fill_normal(std::span<float>(p.data(), p.numel()), p.init.std, seed, p.name);
        break;
      case InitRule::Kind::zeros: std::fill(p.value.begin(), p.value.end(), 0.0f); break;
      case InitRule::Kind::ones: std::fill(p.value.begin(), p.value.end(), 1.0f); break;
    }
  }
}

std::size_t closed_form_parameter_count(const MiniGPTConfig& c) {
  // STARTER-BEGIN 11 · closed-form parameter count | theory/04-parameter-count.md § The rules of the count
  // | computes: how many parameters a model of config c holds, from its sizes alone, without
  // |           building it: c.vocab_size(), c.d_model(), c.n_layers(), c.d_ff(); a LayerNorm
  // |           has gamma and beta, an RMSNorm (c.norm()) gamma only; c.ffn_biases() says
  // |           whether b_1 and b_2 exist
  // | NumPy:    none: integer arithmetic on the sizes, checked against sum(p.size for p in params)
  // | unlocks:  lab 02's closed-form checks, on the locked model and on theory 04's variant
  const std::size_t V = c.vocab_size(), d = c.d_model(), L = c.n_layers(), f = c.d_ff();
  const std::size_t norm = c.norm() == NormKind::layer_norm ? 2 * d : d;  // gamma (+ beta)
  const std::size_t attention = 4 * d * d;                          // W_q, W_k, W_v, W_o, no biases
  const std::size_t ffn = 2 * d * f + (c.ffn_biases() ? f + d : 0);  // W_1, W_2 (+ b_1, b_2)
  return V * d                          // E, shared with the LM head
         + L * (attention + ffn + 2 * norm)  // ln1 and ln2 in each block
         + norm;                        // ln_final
  // STARTER-END
}

}  // namespace minimodel
