#include "parameter_groups.hpp"

#include "svg.hpp"

namespace lab::inventory {

using minimodel::Parameter;

const char* label(Component c, const minimodel::MiniGPTConfig& config) {
  switch (c) {
    case Component::embedding: return "embedding E (tied head)";
    case Component::attention: return "attention W_q W_k W_v W_o";
    case Component::norm:
      return config.norm() == minimodel::NormKind::layer_norm ? "LayerNorm gamma, beta" : "RMSNorm gain gamma";
    case Component::ffn: return config.ffn_biases() ? "FFN W_1 b_1 W_2 b_2" : "FFN W_1 W_2";
  }
  return "?";
}

char bar_symbol(Component c) {
  switch (c) {
    case Component::embedding: return 'E';
    case Component::attention: return 'A';
    case Component::norm: return 'n';
    case Component::ffn: return 'F';
  }
  return '?';
}

std::string_view bar_colour(Component c) {
  switch (c) {
    case Component::embedding: return svg::colour::blue;
    case Component::attention: return svg::colour::red;
    case Component::norm: return svg::colour::sand;
    case Component::ffn: return svg::colour::purple;
  }
  return svg::colour::grey;
}

Component component_of(const std::string& name) {
  if (name == "E") return Component::embedding;
  if (name.find(".attn.") != std::string::npos) return Component::attention;
  if (name.find(".ffn.") != std::string::npos) return Component::ffn;
  return Component::norm;
}

std::size_t sum_over(const minimodel::MiniGPT& model, const std::function<std::size_t(const Parameter&)>& amount) {
  std::size_t total = 0;
  for (const Parameter& p : model.parameters()) total += amount(p);
  return total;
}

std::map<Component, std::size_t> subtotals(const minimodel::MiniGPT& model) {
  std::map<Component, std::size_t> by_component;
  for (const Parameter& p : model.parameters()) by_component[component_of(p.name)] += p.numel();
  return by_component;
}

std::vector<Mistake> counting_mistakes(const minimodel::MiniGPT& model) {
  const bool layer_norm = model.config().norm() == minimodel::NormKind::layer_norm;
  const bool biases = model.config().ffn_biases();
  const auto count_if = [&](const std::function<bool(const Parameter&)>& which) {
    return static_cast<long long>(sum_over(model, [&](const Parameter& p) { return which(p) ? p.numel() : 0; }));
  };
  const auto out_dims_if = [&](const std::function<bool(const Parameter&)>& which) {
    return static_cast<long long>(sum_over(model, [&](const Parameter& p) { return which(p) ? p.value.shape(1) : 0; }));
  };
  return {
      {"biases on W_q, W_k, W_v, W_o (+4d per block)",
       out_dims_if([](const Parameter& p) { return component_of(p.name) == Component::attention; })},
      {"an untied head (a copy of E)", count_if([](const Parameter& p) { return p.name == "E"; })},
      {"LayerNorm without beta", -count_if([](const Parameter& p) { return p.name.ends_with(".beta"); }), layer_norm},
      {"FFN without biases",
       -count_if([](const Parameter& p) { return p.name.ends_with(".b_1") || p.name.ends_with(".b_2"); }), biases},
      {"no final LayerNorm", -count_if([](const Parameter& p) { return p.name.starts_with("ln_final."); })},
      {"only one LayerNorm per block",
       -count_if([](const Parameter& p) { return p.name.find(".ln2.") != std::string::npos; })},
  };
}

}  // namespace lab::inventory
