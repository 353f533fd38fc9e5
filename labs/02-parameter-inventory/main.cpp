// Lab 02 · Parameter inventory.
//
// Where do the parameters of a GPT live? Every number here is counted from the model's real
// tensors (the parameter registry) and then checked against the closed form
//   |θ| = V·d + L·(4d² + 2·d·d_ff + d_ff + d + 4d) + 2d.
#include <array>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lab.hpp"
#include "parameter_groups.hpp"
#include "minimodel/config_json.hpp"
#include "minimodel/model.hpp"
#include "svg.hpp"

namespace {

using minimodel::MiniGPT;
using minimodel::MiniGPTConfig;
using minimodel::Parameter;
using lab::inventory::Component;
using lab::inventory::kComponents;
using lab::inventory::bar_colour;
using lab::inventory::bar_symbol;
using lab::inventory::component_of;
using lab::inventory::label;
using lab::inventory::subtotals;
using lab::inventory::sum_over;

const lab::LabInfo kLab = {
    "02", "Parameter inventory", "labs/02-parameter-inventory/README.md", "8 and 11",
    "every tensor of Mini-GPT counted, subtotalled and checked against the closed form. Give "
    "sizes to count another configuration the same way, e.g. --vocab-size 512, or theory 04's "
    "variant: --vocab-size 512 --norm rmsnorm --no-biases."};

// "128 = 2·d": the ways a difference in parameters is a small multiple of one of the sizes
// a tensor is made of, for a hint that says what is missing or extra without giving the
// formula.
std::string difference_in_sizes(std::size_t difference, const MiniGPTConfig& c) {
  const std::size_t V = c.vocab_size(), d = c.d_model(), f = c.d_ff(), L = c.n_layers();
  const std::vector<std::pair<std::string, std::size_t>> sizes = {
      {"V·d", V * d}, {"d·d_ff", d * f}, {"d²", d * d}, {"d_ff", f}, {"d", d}};
  std::string ways;
  for (const auto& [name, size] : sizes) {
    if (size == 0 || difference % size != 0) continue;
    const std::size_t k = difference / size;
    if (k > 4 * L + 4) continue;  // more copies than the model has tensors: not a hint
    ways += fmt::format(" = {}{}", k == 1 ? "" : fmt::format("{}·", k), name);
  }
  return ways;
}

// The closed form's check, with a hint when it fails. Returns whether it passed.
bool check_closed_form(lab::Report& report, const std::string& check, const MiniGPTConfig& c, std::size_t counted,
                       std::size_t closed_form) {
  if (closed_form == counted) return report.check(check, true, fmt::format("{} == {}", counted, closed_form));
  const bool over = closed_form > counted;
  const std::size_t off = over ? closed_form - counted : counted - closed_form;
  const std::string ways = difference_in_sizes(off, c);
  return report.check(
      check, false, "",
      fmt::format("{} ≠ {}: the closed form gives {} {} than the tensors hold{}; which tensors hold that many "
                  "parameters, and {}?",
                  counted, closed_form, off, over ? "more" : "fewer", ways,
                  over ? "does your formula count them twice, or count tensors this model does not have"
                       : "did your formula leave them out"));
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

void stacked_bar(lab::Report& report, const MiniGPTConfig& config, const std::map<Component, std::size_t>& parts,
                 std::size_t total) {
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
    report.print("  {} = {}", bar_symbol(c), label(c, config));
  }
}

// diagrams/parameter-bar.svg: the same counts as sections 2 and 7, drawn. The top bar sums
// by component; the bottom bar keeps the data-flow order of the inventory (E, each block's
// ln1, attention, ln2, FFN, then ln_final), so both "what" and "where" are visible. Every
// length is an integer count over the total: the same picture on every machine.
lab::svg::Document parameter_bar_svg(const MiniGPT& model, const std::map<Component, std::size_t>& parts) {
  namespace svg = lab::svg;
  const MiniGPTConfig& c = model.config();
  const double total = static_cast<double>(model.parameter_count());
  constexpr double kLeft = 30, kBarWidth = 660, kBarHeight = 38;
  svg::Document doc(kLeft * 2 + kBarWidth, 420, "Lab 02 · where the parameter mass lives",
                    "Drawn by lab02-parameter-inventory --svg from the parameter registry. Regenerate "
                    "with scripts/regen-diagrams.sh.");
  doc.heading(fmt::format("Where the {} parameters live", lab::with_commas(model.parameter_count())),
              fmt::format("d_model {}, {} heads, {} blocks, d_ff {}, vocabulary {}; counted from the model's tensors",
                          c.d_model(), c.n_heads(), c.n_layers(), c.d_ff(), c.vocab_size()));
  const auto x_of = [&](std::size_t running) { return kLeft + kBarWidth * static_cast<double>(running) / total; };

  // 1. By component, with each part's share written inside when it fits, below when not.
  double y = 92;
  doc.text(kLeft, y - 10, "by component", {.size = 12, .bold = true});
  std::size_t running = 0;
  for (const Component comp : kComponents) {
    const std::size_t count = parts.count(comp) ? parts.at(comp) : 0;
    if (count == 0) continue;
    const double x0 = x_of(running), x1 = x_of(running + count);
    doc.rect(x0, y, x1 - x0, kBarHeight, {.fill = bar_colour(comp), .stroke = "#ffffff", .stroke_width = 0.5});
    const std::string share = percent(count, model.parameter_count());
    if (svg::text_width(share, 12) + 8 < x1 - x0) {
      doc.text((x0 + x1) / 2, y + kBarHeight / 2 + 4, share,
               {.size = 12, .anchor = "middle", .bold = true, .fill = "#ffffff"});
    }
    running += count;
  }
  doc.rect(kLeft, y, kBarWidth, kBarHeight, {.stroke = svg::colour::ink, .stroke_width = 0.8});

  // The legend is the table of section 2.
  y += kBarHeight + 30;
  doc.text(kLeft + 22, y, "component", {.size = 11, .fill = svg::colour::grey});
  doc.text(kLeft + 330, y, "parameters", {.size = 11, .anchor = "end", .fill = svg::colour::grey});
  doc.text(kLeft + 400, y, "share", {.size = 11, .anchor = "end", .fill = svg::colour::grey});
  for (const Component comp : kComponents) {
    const std::size_t count = parts.count(comp) ? parts.at(comp) : 0;
    y += 19;
    svg::swatch(doc, kLeft, y, bar_colour(comp), label(comp, c));
    doc.text(kLeft + 330, y, lab::with_commas(count), {.size = 11.5, .anchor = "end"});
    doc.text(kLeft + 400, y, percent(count, model.parameter_count()), {.size = 11.5, .anchor = "end"});
  }

  // 2. In data-flow order: consecutive tensors of the same place and component merged.
  y += 54;
  doc.text(kLeft, y - 16, "in data-flow order (as the inventory lists the tensors)", {.size = 12, .bold = true});
  doc.text(kLeft + kBarWidth, y - 16, "▮ marks a LayerNorm (too thin to see at scale)",
           {.size = 10.5, .anchor = "end", .fill = svg::colour::grey});
  struct Segment {
    std::string place;  // "E", "block_0", "ln_final"
    Component component;
    std::size_t first, count;
  };
  std::vector<Segment> segments;
  running = 0;
  for (const Parameter& p : model.parameters()) {
    const std::string place = p.name.substr(0, p.name.find('.'));
    const Component comp = component_of(p.name);
    if (!segments.empty() && segments.back().place == place && segments.back().component == comp) {
      segments.back().count += p.numel();
    } else {
      segments.push_back({place, comp, running, p.numel()});
    }
    running += p.numel();
  }
  for (const Segment& seg : segments) {
    const double x0 = x_of(seg.first), x1 = x_of(seg.first + seg.count);
    doc.rect(x0, y, x1 - x0, kBarHeight, {.fill = bar_colour(seg.component)});
    // A LayerNorm is 2d numbers, under a pixel at this scale: drawn to scale, and marked
    // above the bar so that it is not mistaken for absent.
    if (seg.component == Component::norm) {
      doc.rect((x0 + x1) / 2 - 1.5, y - 9, 3, 7, {.fill = bar_colour(seg.component)});
    }
  }
  doc.rect(kLeft, y, kBarWidth, kBarHeight, {.stroke = svg::colour::ink, .stroke_width = 0.8});
  // A bracket under each place, labelled with its count.
  const double bracket_y = y + kBarHeight + 8;
  for (std::size_t i = 0; i < segments.size();) {
    std::size_t j = i, count = 0;
    while (j < segments.size() && segments[j].place == segments[i].place) count += segments[j++].count;
    const double x0 = x_of(segments[i].first), x1 = x_of(segments[i].first + count);
    doc.line(x0 + 1, bracket_y, x1 - 1, bracket_y, svg::colour::ink, 1.2);
    doc.line(x0 + 1, bracket_y - 4, x0 + 1, bracket_y, svg::colour::ink, 1.2);
    doc.line(x1 - 1, bracket_y - 4, x1 - 1, bracket_y, svg::colour::ink, 1.2);
    // The small places (ln_final is 0.1 %) get their label to the left of the bar's end.
    const bool wide = x1 - x0 > 70;
    const double label_x = wide ? (x0 + x1) / 2 : std::min(x1, kLeft + kBarWidth) ;
    const std::string_view anchor = wide ? "middle" : "end";
    doc.text(label_x, bracket_y + 16, segments[i].place, {.size = 11.5, .anchor = anchor, .bold = true});
    doc.text(label_x, bracket_y + 31, lab::with_commas(count), {.size = 11, .anchor = anchor, .fill = svg::colour::grey});
    i = j;
  }
  doc.text(kLeft, bracket_y + 62,
           fmt::format("A block: 4d² = {} attention + 2·d·d_ff + d_ff + d = {} FFN + 4d = {} LayerNorm.",
                       lab::with_commas(4 * c.d_model() * c.d_model()),
                       lab::with_commas(2 * c.d_model() * c.d_ff() + c.d_ff() + c.d_model()), 4 * c.d_model()),
           {.size = 11.5, .fill = svg::colour::ink});
  doc.text(kLeft, bracket_y + 80,
           "The head has no tensor of its own: logits = h·Eᵀ reads E, so E appears once.",
           {.size = 11.5, .fill = svg::colour::ink});
  return doc;
}

}  // namespace

int main(int argc, char** argv) {
  lab::CommonOptions options;
  lab::LabCommandLine app(kLab, options);
  minimodel::ConfigValues values;  // the locked configuration unless flags say otherwise
  std::string svg_dir;             // empty: no diagram
  app.option("--d-model", values.d_model, "width of the residual stream").show_default();
  app.option("--n-heads", values.n_heads, "attention heads (d_model must divide by it)").show_default();
  app.option("--n-layers", values.n_layers, "transformer blocks").show_default();
  app.option("--d-ff", values.d_ff, "hidden width of the FFN").show_default();
  app.option("--vocab-size", values.vocab_size, "tokens in the vocabulary").show_default();
  app.option("--context-len", values.context_len, "longest sequence (no parameters depend on it)").show_default();
  std::string norm = "layernorm";
  bool no_biases = false;
  app.option("--norm", norm, "layernorm (the locked model: gamma and beta) or rmsnorm (gain only)")
      .one_of({"layernorm", "rmsnorm"})
      .show_default();
  app.flag("--no-biases", no_biases, "leave out the FFN biases b_1 and b_2 (attention has none anyway)");
  lab::svg::add_option(app, svg_dir);

  return lab::run(app, argc, argv, [&] {
    values.norm = minimodel::norm_kind_from_string(norm);
    values.ffn_biases = !no_biases;
    const MiniGPTConfig config(values);  // validated here: a bad size is a clear error
    const MiniGPT model(config, options.seed);
    const std::filesystem::path svg_directory =
        svg_dir.empty() ? std::filesystem::path{} : lab::svg::checked_directory(svg_dir);
    const std::size_t V = config.vocab_size(), d = config.d_model(), L = config.n_layers(),
                      f = config.d_ff();
    const std::size_t total = model.parameter_count();

    lab::Report report(kLab, options);
    report.print("config: {}", config.describe());
    nlohmann::json& results = report.results();
    results["config"] = minimodel::config_to_json(config);

    report.section("Inventory");
    report.print("Every tensor of the parameter registry, in the order the data flows.");
    report.print("Linear maps are y = x·W + b with W of shape (d_in, d_out).");
    report.print("");
    inventory_table(report, model, results["inventory"]);

    report.section("Subtotals by component");
    const std::map<Component, std::size_t> parts = subtotals(model);
    for (const Component c : kComponents) {
      const std::size_t count = parts.count(c) ? parts.at(c) : 0;
      report.print("{:<28} {:>8} {:>8}", label(c, config), count, percent(count, total));
      results["subtotals"][label(c, config)] = count;
    }
    const auto counted = [&](std::string_view prefix) {  // the elements of the tensors named prefix...
      return sum_over(model, [prefix](const Parameter& p) { return p.name.rfind(prefix, 0) == 0 ? p.numel() : 0; });
    };
    const std::size_t per_block = counted("block_0.");
    report.print("{:<28} {:>8}", "one block (block_0)", per_block);

    report.section("Closed form");
    // The formula's text depends on the variant: a LayerNorm holds 2d (gamma, beta), an RMSNorm
    // d (its gain); the FFN biases hold d_ff + d.
    const bool layer_norm = config.norm() == minimodel::NormKind::layer_norm, biases = config.ffn_biases();
    // The derivation's terms are counted from the tensors, term by term: the closed form itself
    // is written once, by the student (piece 11), and this lab only shows where its terms live.
    const std::size_t embedding = counted("E"), block = per_block, final_norm = counted("ln_final.");
    const std::string bias_term = biases ? " + d_ff + d" : "", norm_term = layer_norm ? "4d" : "2d",
                      final_term = layer_norm ? "2d" : "d";
    const std::string block_formula = fmt::format("4d² + 2·d·d_ff{} + {}", bias_term, norm_term);
    report.print("counted from the tensors (section 1): {}", total);
    // The closed form (registry.cpp) is a piece the student writes. Its derivation is printed
    // once it matches: printed before, it would be the answer, not a check of one. A wrong
    // count gets a hint instead: what the difference is made of, in the config's sizes.
    const std::string closed_form_check = "counted from the tensors == closed form";
    report.guard({closed_form_check}, [&] {
      const std::size_t closed_form = minimodel::closed_form_parameter_count(config);
      results["closed_form"] = closed_form;
      if (!check_closed_form(report, closed_form_check, config, total, closed_form)) return;
      report.print("|θ| = V·d + L·({}) + {}", block_formula, final_term);
      report.print("    = {}·{} + {}·(4·{}² + 2·{}·{}{} + {}·{}) + {}{}", V, d, L, d, d, f,
                   biases ? fmt::format(" + {} + {}", f, d) : "", layer_norm ? 4 : 2, d,
                   layer_norm ? "2·" : "", d);
      report.print("    = {} + {}·{} + {}", embedding, L, block, final_norm);
      report.print("    = {}", closed_form);
    });
    results["counted"] = total;

    // The same closed form on theory 04's variant, unless that is the model above: RMSNorm
    // (gamma only), no FFN biases, vocab_size 512. A closed form that ignores the variant's
    // switches passes the locked model and fails here.
    minimodel::ConfigValues variant_values = values;
    variant_values.vocab_size = 512;
    variant_values.norm = minimodel::NormKind::rms_norm;
    variant_values.ffn_biases = false;
    const MiniGPTConfig variant(variant_values);
    if (!(variant == config)) {
      const MiniGPT variant_model(variant, options.seed);
      const std::size_t variant_total = variant_model.parameter_count();
      report.print("");
      report.print("theory 04's variant: {}", variant.describe());
      report.print("counted from its tensors: {}", variant_total);
      const std::string variant_check = "the closed form counts theory 04's variant too";
      report.guard({variant_check}, [&] {
        const std::size_t closed_form = minimodel::closed_form_parameter_count(variant);
        results["variant"] = {{"config", minimodel::config_to_json(variant)},
                              {"counted", variant_total},
                              {"closed_form", closed_form}};
        check_closed_form(report, variant_check, variant, variant_total, closed_form);
      });
    }

    report.section("Tied head: shared storage");
    // Which matrix the head reads is a piece the student writes (TiedLMHead::weight): a copy of
    // E there is an untied head, which these two checks name.
    const std::string storage_check = "unique storage == counted parameters (the head is E itself, not a copy)",
                      tie_check = "the head's weight is the embedding's storage";
    report.guard({storage_check, tie_check}, [&] {
      std::size_t read_by_forward = 0;
      for (const Parameter* p : model.tensors_read_by_forward()) read_by_forward += p->numel();
      const std::size_t unique = model.unique_storage_count();
      report.print("elements the forward reads (E twice: embedding and head)  {:>8}", read_by_forward);
      report.print("elements of distinct storage                             {:>8}", unique);
      report.print("untied head (its own V·d = {}·{} matrix) would give        {:>8}", V, d, total + V * d);
      report.print("");
      report.check(storage_check, unique == total, fmt::format("{} == {}", unique, total),
                   fmt::format("{} ≠ {}: the forward reads {} more parameters than the model registers, "
                               "a copy of some tensor",
                               unique, total, static_cast<long long>(unique) - static_cast<long long>(total)));
      const bool same = model.lm_head().weight().data() == model.embedding().E().data();
      report.check(tie_check, same, "", "the head reads a matrix at another address than E: a copy, so an untied head");
      results["unique_storage"] = unique;
    });
    report.print("tying saves V·d = {} parameters, {} of the untied total", V * d, percent(V * d, total + V * d));
    results["untied_total"] = total + V * d;

    report.section("The 12·d² rule of thumb");
    const std::size_t rule = 12 * d * d;
    report.print("With d_ff = 4d a block's matrices hold 4d² (attention) + 2·d·4d (FFN) = 12d².");
    report.print("12·d²          = 12·{}² = {}", d, rule);
    report.print("one block      = {}", block);
    if (f == 4 * d) {
      report.print("difference     = {} ={} {}", block - rule, biases ? " d_ff + d (FFN biases) +" : "",
                   layer_norm ? "4d (two LayerNorms)" : "2d (two RMSNorm gains)");
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
    const std::vector<lab::inventory::Mistake> mistakes = lab::inventory::counting_mistakes(model);
    report.print("{:<46} {:>8} {:>10}", "mistake", "change", "total");
    report.print("{:<46} {:>8} {:>10}", "(none: the model as specified)", "", total);
    bool all_differ = true;
    for (const lab::inventory::Mistake& m : mistakes) {
      const long long wrong = static_cast<long long>(total) + m.delta;
      if (!m.applies) {
        report.print("{:<46} {:>8} {:>10}", m.what, "n/a", "(this variant has none)");
        continue;
      }
      report.print("{:<46} {:>+8} {:>10}", m.what, m.delta, wrong);
      results["mistakes"].push_back({{"mistake", m.what}, {"change", m.delta}, {"total", wrong}});
      all_differ = all_differ && m.delta != 0;
    }
    report.print("");
    if (all_differ) report.fact("every mistake above changes the total, so the closed-form check would catch it");

    report.section("Where the parameter mass lives");
    stacked_bar(report, config, parts, total);
    if (!svg_dir.empty()) lab::svg::write(svg_directory, "parameter-bar.svg", parameter_bar_svg(model, parts));

    return report.finish();
  });
}
