#pragma once
// Lab 02's tables: which component each parameter tensor belongs to (for the subtotals, the
// text bar and the SVG bar), and the totals that common counting mistakes produce. The lab's
// main.cpp is the lesson that prints and checks the counts; this is how it groups them.
#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/model.hpp"

namespace lab::inventory {

// The components the subtotals and the bar use, in data-flow order.
enum class Component { embedding, attention, norm, ffn };
inline constexpr std::array kComponents = {Component::embedding, Component::attention, Component::norm,
                                           Component::ffn};

// What a component's tensors are, in this config's variant.
const char* label(Component c, const minimodel::MiniGPTConfig& config);
// Its letter in the text bar and its colour in the SVG bar.
char bar_symbol(Component c);
std::string_view bar_colour(Component c);

// From the parameter name (CONVENTIONS.md §9): "E", "block_i.attn.*", "block_i.ffn.*", "*.ln1.*", "ln_final.*".
Component component_of(const std::string& name);

// Sum of a per-tensor amount over the model's tensors.
std::size_t sum_over(const minimodel::MiniGPT& model,
                     const std::function<std::size_t(const minimodel::Parameter&)>& amount);
// The parameters of each component.
std::map<Component, std::size_t> subtotals(const minimodel::MiniGPT& model);

// A counting mistake and how it moves the total, computed from the model's own tensors.
struct Mistake {
  std::string what;
  long long delta;
  bool applies = true;  // false when the variant already lacks what the mistake forgets
};
std::vector<Mistake> counting_mistakes(const minimodel::MiniGPT& model);

}  // namespace lab::inventory
