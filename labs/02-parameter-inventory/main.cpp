// Lab 02 · Parameter inventory.
//
// Where do the parameters of a GPT live? Every number here is counted from the model's real
// tensors (the parameter registry) and then checked against the closed form
//   |θ| = V·d + L·(4d² + 2·d·d_ff + d_ff + d + 4d) + 2d.
#include <array>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lab.hpp"
#include "minimodel/model.hpp"

namespace {

using minimodel::MiniGPT;
using minimodel::MiniGPTConfig;
using minimodel::Parameter;

// The components the subtotals and the bar use, in data-flow order.
enum class Component { embedding, attention, norm, ffn };
constexpr std::array kComponents = {Component::embedding, Component::attention, Component::norm,
                                    Component::ffn};

const char* label(Component c) {
  switch (c) {
    case Component::embedding: return "embedding E (tied head)";
    case Component::attention: return "attention W_q W_k W_v W_o";
    case Component::norm: return "LayerNorm gamma, beta";
    case Component::ffn: return "FFN W_1 b_1 W_2 b_2";
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

// From the SPEC §4 name: "E", "block_i.attn.*", "block_i.ffn.*", "*.ln1.*", "ln_final.*".
Component component_of(const std::string& name) {
  if (name == "E") return Component::embedding;
  if (name.find(".attn.") != std::string::npos) return Component::attention;
  if (name.find(".ffn.") != std::string::npos) return Component::ffn;
  return Component::norm;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Sum of a per-tensor amount over the model's tensors.
std::size_t sum_over(const MiniGPT& model, const std::function<std::size_t(const Parameter&)>& amount) {
  std::size_t total = 0;
  for (const Parameter& p : model.parameters()) total += amount(p);
  return total;
}

std::string percent(std::size_t part, std::size_t whole) {
  return fmt::format("{:.2f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

void inventory_table(lab::Report& report, const MiniGPT& model, nlohmann::json& rows) {
  const std::size_t total = model.parameter_count();
  report.print("{:<22} {:<11} {:>8} {:>10} {:>8}", "name", "shape", "count", "running", "share");
  std::size_t running = 0;
  for (const Parameter& p : model.parameters()) {
    running += p.numel();
    report.print("{:<22} {:<11} {:>8} {:>10} {:>8}", p.name, minimodel::format_shape(p.shape()), p.numel(),
                 running, percent(p.numel(), total));
    rows.push_back({{"name", p.name}, {"shape", p.shape()}, {"count", p.numel()}, {"running_total", running}});
  }
  report.print("{:<22} {:<11} {:>8}", "total", "", running);
}

std::map<Component, std::size_t> subtotals(const MiniGPT& model) {
  std::map<Component, std::size_t> by_component;
  for (const Parameter& p : model.parameters()) by_component[component_of(p.name)] += p.numel();
  return by_component;
}

void stacked_bar(lab::Report& report, const std::map<Component, std::size_t>& parts, std::size_t total) {
  // 64 characters shared in proportion to the counts; a non-empty part gets at least one so
  // that the small ones (the norms) stay visible, taken from the largest part. Integer
  // arithmetic only, so the bar is the same on every machine.
  constexpr std::size_t width = 64;
  std::map<Component, std::size_t> chars;
  std::size_t used = 0;
  Component largest = Component::embedding;
  for (const Component c : kComponents) {
    const std::size_t count = parts.count(c) ? parts.at(c) : 0;
    chars[c] = std::max<std::size_t>((count * width + total / 2) / total, count > 0 ? 1 : 0);
    used += chars[c];
    if (chars[c] > chars[largest]) largest = c;
  }
  chars[largest] = chars[largest] + width - used;  // absorb the rounding (±1 or 2)
  std::string bar;
  for (const Component c : kComponents) bar += std::string(chars[c], bar_symbol(c));
  report.print("|{}|", bar);
  for (const Component c : kComponents) {
    report.print("  {} = {}", bar_symbol(c), label(c));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Lab 02 · Parameter inventory: every tensor of Mini-GPT counted, subtotalled and checked "
      "against the closed form. Give sizes to count another configuration the same way, e.g. "
      "--vocab-size 512.\nChapter: labs/02-parameter-inventory/README.md"};
  lab::CommonOptions options;
  lab::add_common_options(app, options);
  minimodel::ConfigValues values;  // the locked configuration unless flags say otherwise
  app.add_option("--d-model", values.d_model, "width of the residual stream")->capture_default_str();
  app.add_option("--n-heads", values.n_heads, "attention heads (d_model must divide by it)")->capture_default_str();
  app.add_option("--n-layers", values.n_layers, "transformer blocks")->capture_default_str();
  app.add_option("--d-ff", values.d_ff, "hidden width of the FFN")->capture_default_str();
  app.add_option("--vocab-size", values.vocab_size, "tokens in the vocabulary")->capture_default_str();
  app.add_option("--context-len", values.context_len, "longest sequence (no parameters depend on it)")
      ->capture_default_str();

  return lab::run(app, argc, argv, [&] {
    const MiniGPTConfig config(values);  // validated here: a bad size is a clear error
    const MiniGPT model(config, options.seed);
    const std::size_t V = config.vocab_size(), d = config.d_model(), L = config.n_layers(),
                      f = config.d_ff();
    const std::size_t total = model.parameter_count();

    lab::Report report({"02", "Parameter inventory", "labs/02-parameter-inventory/README.md"}, options);
    report.print("config: {}", config.describe());
    nlohmann::json& results = report.results();
    results["config"] = lab::config_json(config);

    report.section("Inventory");
    report.print("Every tensor of the parameter registry, in the order the data flows.");
    report.print("Linear maps are y = x·W + b with W of shape (d_in, d_out).");
    report.print("");
    inventory_table(report, model, results["inventory"]);

    report.section("Subtotals by component");
    const std::map<Component, std::size_t> parts = subtotals(model);
    for (const Component c : kComponents) {
      const std::size_t count = parts.count(c) ? parts.at(c) : 0;
      report.print("{:<28} {:>8} {:>8}", label(c), count, percent(count, total));
      results["subtotals"][label(c)] = count;
    }
    const std::size_t per_block = sum_over(model, [](const Parameter& p) {
      return p.name.rfind("block_0.", 0) == 0 ? p.numel() : 0;
    });
    report.print("{:<28} {:>8}", "one block (block_0)", per_block);

    report.section("Closed form");
    const std::size_t embedding = V * d, block = 4 * d * d + 2 * d * f + f + d + 4 * d, final_norm = 2 * d;
    report.print("|θ| = V·d + L·(4d² + 2·d·d_ff + d_ff + d + 4d) + 2d");
    report.print("    = {}·{} + {}·(4·{}² + 2·{}·{} + {} + {} + 4·{}) + 2·{}", V, d, L, d, d, f, f, d, d, d);
    report.print("    = {} + {}·{} + {}", embedding, L, block, final_norm);
    report.print("    = {}", minimodel::closed_form_parameter_count(config));
    report.print("");
    report.check("counted from the tensors == closed form", total == minimodel::closed_form_parameter_count(config),
                 fmt::format("{} == {}", total, minimodel::closed_form_parameter_count(config)));
    report.check("one block counted == 4d² + 2·d·d_ff + d_ff + d + 4d", per_block == block,
                 fmt::format("{} == {}", per_block, block));
    results["closed_form"] = minimodel::closed_form_parameter_count(config);
    results["counted"] = total;

    report.section("Tied head: shared storage");
    std::size_t read_by_forward = 0;
    for (const Parameter* p : model.tensors_read_by_forward()) read_by_forward += p->numel();
    report.print("elements the forward reads (E twice: embedding and head)  {:>8}", read_by_forward);
    report.print("elements of distinct storage                             {:>8}", model.unique_storage_count());
    report.print("untied head (its own V·d = {}·{} matrix) would give        {:>8}", V, d, total + V * d);
    report.print("");
    report.check("unique storage == counted parameters (the head is E itself, not a copy)",
                 model.unique_storage_count() == total,
                 fmt::format("{} == {}", model.unique_storage_count(), total));
    report.check("the head's weight is the embedding's storage",
                 model.lm_head().weight().data() == model.embedding().E().data());
    report.print("tying saves V·d = {} parameters, {} of the untied total", V * d, percent(V * d, total + V * d));
    results["unique_storage"] = model.unique_storage_count();
    results["untied_total"] = total + V * d;

    report.section("The 12·d² rule of thumb");
    const std::size_t rule = 12 * d * d;
    report.print("With d_ff = 4d a block's matrices hold 4d² (attention) + 2·d·4d (FFN) = 12d².");
    report.print("12·d²          = 12·{}² = {}", d, rule);
    report.print("one block      = {}", block);
    if (f == 4 * d) {
      report.print("difference     = {} = d_ff + d (FFN biases) + 4d (two LayerNorms)", block - rule);
    } else {
      // With another ratio the matrices hold 4d² + 2·d·d_ff, not 12d², and the rule misleads.
      report.print("difference     = {} (d_ff = {} is not 4d = {}: the rule assumes it is)",
                   static_cast<long long>(block) - static_cast<long long>(rule), f, 4 * d);
    }
    report.print("the rule covers {} of a block", percent(rule, block));
    results["rule_of_thumb"] = rule;

    report.section("Totals that common mistakes produce");
    report.print("Each total below is the real count plus or minus tensors of the model, as the mistake would.");
    report.print("");
    struct Mistake {
      std::string what;
      long long delta;
    };
    const auto count_if = [&](const std::function<bool(const Parameter&)>& which) {
      return static_cast<long long>(sum_over(model, [&](const Parameter& p) { return which(p) ? p.numel() : 0; }));
    };
    const auto out_dims_if = [&](const std::function<bool(const Parameter&)>& which) {
      return static_cast<long long>(sum_over(model, [&](const Parameter& p) { return which(p) ? p.value.shape(1) : 0; }));
    };
    const std::vector<Mistake> mistakes = {
        {"biases on W_q, W_k, W_v, W_o (+4d per block)",
         out_dims_if([](const Parameter& p) { return component_of(p.name) == Component::attention; })},
        {"an untied head (a copy of E)", count_if([](const Parameter& p) { return p.name == "E"; })},
        {"LayerNorm without beta", -count_if([](const Parameter& p) { return ends_with(p.name, ".beta"); })},
        {"FFN without biases", -count_if([](const Parameter& p) { return ends_with(p.name, ".b_1") || ends_with(p.name, ".b_2"); })},
        {"no final LayerNorm", -count_if([](const Parameter& p) { return p.name.rfind("ln_final.", 0) == 0; })},
        {"only one LayerNorm per block", -count_if([](const Parameter& p) { return p.name.find(".ln2.") != std::string::npos; })},
    };
    report.print("{:<46} {:>8} {:>10}", "mistake", "change", "total");
    report.print("{:<46} {:>8} {:>10}", "(none: the model as specified)", "", total);
    for (const Mistake& m : mistakes) {
      const long long wrong = static_cast<long long>(total) + m.delta;
      report.print("{:<46} {:>+8} {:>10}", m.what, m.delta, wrong);
      results["mistakes"].push_back({{"mistake", m.what}, {"change", m.delta}, {"total", wrong}});
    }
    report.print("");
    bool all_differ = true;
    for (const Mistake& m : mistakes) all_differ = all_differ && m.delta != 0;
    report.check("every mistake changes the total, so the closed-form check would catch it", all_differ);

    report.section("Where the parameter mass lives");
    stacked_bar(report, parts, total);

    return report.finish();
  });
}
