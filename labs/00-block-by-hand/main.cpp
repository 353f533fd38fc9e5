// Lab 00 · Block by hand.
//
// One Pre-LN block on a toy small enough for pencil and paper: T = 2 tokens, d_model = 4,
// 2 heads of d_head 2, d_ff = 16, and weights that are 0, ±1, ±0.5 or ±0.25. The block runs
// three times, in three different ways:
//   model      the course's fp32 TransformerBlock, every intermediate read from its trace;
//   chapter    the values derived by hand in README.md (labs/common/lab00_chapter_values.tsv);
//   reference  the hand-made double-precision forward (reference.hpp), no code shared.
// Every step prints the three side by side, with one verdict against the chapter and one
// against the reference. Then the LayerNorm properties, the exact-vs-tanh GELU gap, and one
// gradient sent back through the block (backward.hpp) against finite differences.
//
// The toy's weights, the chapter's values and the tolerances are data: labs/common/lab00_toy.*.
//
// Conventions (CONVENTIONS.md §1, §5, §7): activations (T, d_model), row-major; y = x·W + b with W stored as
// (d_in, d_out); heads are contiguous column blocks; RoPE pairs are interleaved (2i, 2i+1).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lab.hpp"
#include "lab00_toy.hpp"
#include "reference_match.hpp"
#include "minimodel/config_json.hpp"
#include "minimodel/activations.hpp"
#include "minimodel/backward/backward.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/gelu.hpp"
#include "minimodel/layer_norm.hpp"
#include "minimodel/model.hpp"
#include "minimodel/reference.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/trace.hpp"

namespace {

using minimodel::Matrix;
using namespace lab::toy;  // the toy, the chapter's values and the tolerances (labs/common/lab00_toy.hpp)
namespace reference = minimodel::reference;

const lab::LabInfo kLab = {
    "00", "Block by hand", "labs/00-block-by-hand/README.md", "1 to 7",
    "one Pre-LN block on a pencil-sized toy (T = 2, d_model = 4,\n"
    "2 heads of d_head 2, d_ff = 16), every intermediate printed with its shape beside the\n"
    "chapter's hand-derived value and the double-precision reference, with a verdict."};

// ---------------------------------------------------------------------------------------------
// Comparing and printing one step.

// One printed line of a step: a label and where its values start in the flat tensor.
struct Line {
  std::string label;
  std::size_t offset, count;
};

// (T, d) by position; (H, T, T) by head and query; the FFN's (T, 16) by position and copy.
std::vector<Line> layout_for(const minimodel::Shape& shape, std::size_t d_model) {
  std::vector<Line> lines;
  if (shape.size() == 3) {
    const std::size_t H = shape[0], T = shape[1], n = shape[2];
    for (std::size_t h = 0; h < H; ++h) {
      for (std::size_t i = 0; i < T; ++i) {
        lines.push_back({fmt::format("head {} · query {}", h, i), (h * T + i) * n, n});
      }
    }
  } else if (shape.size() == 2 && shape[1] > d_model) {
    const std::size_t T = shape[0], f = shape[1];
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t k = 0; k < f / d_model; ++k) {
        lines.push_back({fmt::format("position {} · copy {} ({})", t, k,
                                     lab::number(kCopyOffsets[k], 1)),
                         t * f + k * d_model, d_model});
      }
    }
  } else if (shape.size() == 2) {
    for (std::size_t t = 0; t < shape[0]; ++t) {
      lines.push_back({fmt::format("position {}", t), t * shape[1], shape[1]});
    }
  } else {
    throw minimodel::Error(fmt::format("lab00: no layout for shape {}", minimodel::format_shape(shape)));
  }
  return lines;
}

void print_values(lab::Report& report, const std::string& label, const std::string& kind,
                  std::span<const double> values) {
  report.print("  {:<26} {:<10} {}", label, kind, lab::row(values));
}

struct StepOutcome {
  std::string name;
  double vs_chapter, vs_reference;
};

struct Toy {
  const minimodel::TraceRecorder& trace;
  const reference::Result& reference;
  std::vector<StepOutcome>& outcomes;
  nlohmann::json& json_steps;
  std::size_t d_model;
  // What stopped the block's forward, when a piece is not implemented yet (the starter build):
  // the steps it traced before the throw are shown, the rest report this.
  const std::optional<minimodel::NotImplemented>& stopped;
};

// The traced step `name`. A step the forward never reached rethrows what stopped it, so the
// section that needs it reports "not implemented yet" and the lab goes on; a step that a
// finished forward never ran (a block that skips LN2, say) fails the checks that need it.
const minimodel::TraceRecorder::Entry& traced(const minimodel::TraceRecorder& trace, const std::string& name) {
  if (const minimodel::TraceRecorder::Entry* entry = trace.find(name)) return *entry;
  throw lab::Missing(fmt::format("{} was never recorded: the block's forward did not run this operation", name));
}

const minimodel::TraceRecorder::Entry& need(const Toy& toy, const std::string& name) {
  if (toy.stopped && toy.trace.find(name) == nullptr) throw *toy.stopped;
  return traced(toy.trace, name);
}

std::vector<double> as_doubles(const std::vector<float>& values) {
  return std::vector<double>(values.begin(), values.end());
}

// Prints one step: its shapes and formula, then model / chapter / reference for every row
// (plus any extra rows `extra` adds, e.g. GELU's tanh form), and the two verdicts.
using ExtraRows = std::function<void(const Line&)>;

void show_step(lab::Report& report, Toy& toy, const std::string& name, const ExtraRows& extra = {}) {
  const minimodel::TraceRecorder::Entry& entry = need(toy, name);
  const minimodel::TraceEvent& event = entry.event;
  const std::vector<double> model = as_doubles(entry.values);
  const reference::Tensor& ref = reference::step(toy.reference, name);
  const std::vector<double>& chapter = chapter_step(name).values;
  if (ref.shape == event.output && chapter.size() != ref.data.size()) {
    throw minimodel::Error(fmt::format("lab00: the chapter gives {} values for {}, the reference {}", chapter.size(),
                                       name, ref.data.size()));
  }
  if (ref.shape != event.output || model.size() != ref.data.size()) {
    throw lab::Missing(fmt::format(
        "{} has shape {} ≠ {}, the shape the chapter and the reference derive", name,
        minimodel::format_shape(event.output), minimodel::format_shape(ref.shape)));
  }

  report.print("{}  {} -> {}   {}", name, lab::format_inputs(event),
               minimodel::format_shape(event.output), event.formula);
  for (const Line& line : layout_for(event.output, toy.d_model)) {
    const auto part = [&](const std::vector<double>& v) {
      return std::span<const double>(v).subspan(line.offset, line.count);
    };
    print_values(report, line.label, "model", part(model));
    print_values(report, "", "chapter", part(chapter));
    print_values(report, "", "reference", part(ref.data));
    if (extra) extra(line);
  }

  const double vs_chapter = lab::max_abs_diff(model, chapter);
  const double vs_reference = lab::max_abs_diff(model, ref.data);
  const bool ok_chapter =
      report.check_at_most(fmt::format("{} vs chapter", name), "max |model − chapter|", vs_chapter, kChapterTolerance);
  const bool ok_reference = report.check_at_most(fmt::format("{} vs reference", name), "max |model − reference|",
                                                 vs_reference, kReferenceTolerance);
  toy.outcomes.push_back({name, vs_chapter, vs_reference});

  nlohmann::json inputs = nlohmann::json::array();
  for (const minimodel::Shape& s : event.inputs) inputs.push_back(s);
  toy.json_steps.push_back({{"name", name},
                            {"inputs", inputs},
                            {"output", event.output},
                            {"formula", event.formula},
                            {"model", model},  // -inf (masked scores) is written as null
                            {"chapter", chapter},
                            {"reference", ref.data},
                            {"max_abs_diff_chapter", vs_chapter},
                            {"max_abs_diff_reference", vs_reference},
                            {"tolerance_chapter", kChapterTolerance},
                            {"tolerance_reference", kReferenceTolerance},
                            {"passed", ok_chapter && ok_reference}});
}

std::span<const float> row_of(const std::vector<float>& values, std::size_t t, std::size_t d) {
  return std::span<const float>(values).subspan(t * d, d);
}

// ---------------------------------------------------------------------------------------------
// Sections that are not one step of the block.

void show_toy(lab::Report& report, const minimodel::MiniGPT& model,
              const std::vector<HandSetParameter>& hand_set) {
  const minimodel::MiniGPTConfig& config = model.config();
  report.print("config: {}", config.describe());
  report.print("linear maps: y = x·W + b, W stored as (d_in, d_out); activations (T, d_model)");
  report.print("input x (2, 4), one row per position:");
  for (std::size_t t = 0; t < 2; ++t) {
    report.print("  position {}  {}", t, lab::row(row_of(kInput, t, 4), 2));
  }
  report.print("block_0 parameters, set by hand:");
  for (const HandSetParameter& p : hand_set) {
    const minimodel::Parameter& parameter = model.parameters().at(p.name);
    const minimodel::Shape shape = parameter.shape();
    const std::span<const float> values(parameter.data(), parameter.numel());
    if (shape.size() == 1) {
      report.print("  {:<18} {:<8} {}", p.name, minimodel::format_shape(shape), lab::row(values, 2));
      continue;
    }
    // W_1 is (4, 16): its entries are 0 or 1, so print them without decimals to keep a row
    // on one line.
    const int decimals = shape[1] > 4 ? 0 : 2;
    for (std::size_t r = 0; r < shape[0]; ++r) {
      report.print("  {:<18} {:<8} {}", r == 0 ? p.name : "", r == 0 ? minimodel::format_shape(shape) : "",
                   lab::row(values.subspan(r * shape[1], shape[1]), decimals));
    }
  }
  std::string untouched;
  for (const minimodel::Parameter& parameter : model.parameters()) {
    const bool set = std::any_of(hand_set.begin(), hand_set.end(),
                                 [&](const HandSetParameter& p) { return p.name == parameter.name; });
    if (!set) untouched += (untouched.empty() ? "" : ", ") + parameter.name;
  }
  // Of these only E is drawn from the seed (ln_final starts at gamma 1, beta 0), and one block
  // never reads either: the output does not depend on --seed.
  report.print("not set by hand (left as initialised, never read by this lab): {}", untouched);
  report.print("only E depends on --seed, so the output below is the same for every seed");
}

// The checks show_rope_facts prints, named before it runs (for "not implemented yet").
std::vector<std::string> rope_fact_checks(std::size_t n_heads) {
  std::vector<std::string> names;
  for (const std::string label : {"q", "k"}) {
    names.push_back(fmt::format("{}_rope at position 0 is {} itself, bit for bit (angle 0)", label, label));
    for (std::size_t h = 0; h < n_heads; ++h) {
      names.push_back(fmt::format("{} head {} turned by 1·θ_0 rad at position 1", label, h));
    }
  }
  return names;
}

void show_rope_facts(lab::Report& report, const Toy& toy, double rope_base, std::size_t n_heads,
                     std::size_t d_head) {
  const double theta_0 = std::pow(rope_base, -2.0 * 0.0 / static_cast<double>(d_head));
  report.print("d_head = {} holds one pair per head, pair 0 with θ_0 = base^(−2·0/d_head) = {}",
               d_head, lab::number(theta_0));
  for (const std::string label : {"q", "k"}) {
    const std::vector<float>& before = need(toy, "block_0.attn." + label).values;
    const std::vector<float>& after = need(toy, "block_0.attn." + label + "_rope").values;
    const std::size_t d = n_heads * d_head;
    // Position 0: angle 0·θ_0 = 0, so RoPE must leave the row exactly as it was.
    const bool identity = std::equal(before.begin(), before.begin() + static_cast<long>(d), after.begin());
    report.check(fmt::format("{}_rope at position 0 is {} itself, bit for bit (angle 0)", label, label),
                 identity, "", fmt::format("row 0 of {}_rope ≠ row 0 of {}: position 0 was rotated", label, label));
    // Position 1: each head's pair turns by 1·θ_0 = 1 radian and keeps its length.
    for (std::size_t h = 0; h < n_heads; ++h) {
      const std::size_t at = d + h * d_head;  // row 1, head h, pair 0
      const double a0 = before[at], a1 = before[at + 1], b0 = after[at], b1 = after[at + 1];
      const double turned = std::atan2(a0 * b1 - a1 * b0, a0 * b0 + a1 * b1);
      report.print("  {} head {} at position 1: [{}, {}] -> [{}, {}], length {} -> {}", label, h,
                   lab::number(a0), lab::number(a1), lab::number(b0), lab::number(b1),
                   lab::number(std::hypot(a0, a1)), lab::number(std::hypot(b0, b1)));
      report.check_close(fmt::format("{} head {} turned by 1·θ_0 rad at position 1", label, h), turned,
                         1.0 * theta_0, kReferenceTolerance);
    }
  }
}

const std::vector<std::string> kSoftmaxFactChecks = {"every row of weights sums to 1",
                                                     "masked weights (key after query) are exactly 0"};

void show_softmax_facts(lab::Report& report, const Toy& toy, std::size_t H, std::size_t T) {
  const std::vector<float>& w = need(toy, "block_0.attn.weights").values;
  double worst_sum = 0.0;
  bool masked_zero = true;
  for (std::size_t h = 0; h < H; ++h) {
    for (std::size_t i = 0; i < T; ++i) {
      double sum = 0.0;
      for (std::size_t j = 0; j < T; ++j) {
        const float value = w[(h * T + i) * T + j];
        sum += value;
        if (j > i && value != 0.0f) masked_zero = false;
      }
      worst_sum = std::max(worst_sum, std::abs(sum - 1.0));
    }
  }
  report.check_at_most("every row of weights sums to 1", "max |sum − 1|", worst_sum, kReferenceTolerance);
  report.check("masked weights (key after query) are exactly 0", masked_zero, "",
               "a weight above the diagonal is not 0: the mask lets a query read a later key");
}

// GELU's extra rows: the tanh form on the same inputs, and exact − tanh.
ExtraRows gelu_extra_rows(lab::Report& report, const minimodel::TraceRecorder& trace) {
  return [&report, &trace](const Line& line) {
    const std::vector<float>& pre = traced(trace, "block_0.ffn.pre").values;
    const std::vector<float>& exact = traced(trace, "block_0.ffn.gelu").values;
    std::vector<double> tanh_form, gap;
    for (std::size_t i = line.offset; i < line.offset + line.count; ++i) {
      const float t = minimodel::gelu_tanh(pre[i]);
      tanh_form.push_back(t);
      gap.push_back(static_cast<double>(exact[i]) - static_cast<double>(t));
    }
    print_values(report, "", "tanh form", tanh_form);
    print_values(report, "", "exact−tanh", gap);
  };
}

const std::string kGeluGapCheck = "the block's exact and tanh GELU differ by less than 1e-3";

void show_gelu_gap_in_block(lab::Report& report, const Toy& toy) {
  const std::vector<float>& pre = need(toy, "block_0.ffn.pre").values;
  const std::vector<float>& exact = need(toy, "block_0.ffn.gelu").values;
  double worst = 0.0;
  std::size_t where = 0;
  for (std::size_t i = 0; i < pre.size(); ++i) {
    const double gap = std::abs(static_cast<double>(exact[i]) - minimodel::gelu_tanh(pre[i]));
    if (gap > worst) worst = gap, where = i;
  }
  const std::size_t f = 16;
  report.print("max |exact − tanh| over the block's {} GELU inputs: {:.2e} at u = {} (position {}, "
               "column {})",
               pre.size(), worst, lab::number(pre[where]), where / f, where % f);
  report.check(kGeluGapCheck, worst < 1e-3, fmt::format("{:.2e} < 1.0e-03", worst),
               fmt::format("{:.2e} >= 1.0e-03", worst));
}

// mean and biased variance of one row, in double.
std::pair<double, double> mean_and_variance(std::span<const float> row) {
  double mean = 0.0;
  for (const float v : row) mean += v;
  mean /= static_cast<double>(row.size());
  double variance = 0.0;
  for (const float v : row) variance += (v - mean) * (v - mean);
  return {mean, variance / static_cast<double>(row.size())};
}

// The (gamma, beta) pairs and rows the LayerNorm properties are checked on, and the names of
// those checks (for "not implemented yet").
constexpr std::array<std::pair<float, float>, 2> kGammaBeta = {std::pair{1.0f, 0.0f}, std::pair{2.0f, 5.0f}};
constexpr std::array<const char*, 4> kProbeLabels = {"x row 0", "x row 1", "z row 0", "flat row"};

// RMSNorm, theory 04's variant, is the same piece with its switch on: checked with gamma 2.
constexpr float kRmsGamma = 2.0f;

std::string rms_check_name(const char* probe) {
  return fmt::format("{} mean square (RMSNorm, gamma {})", probe, lab::number(kRmsGamma, 0));
}

std::vector<std::string> layer_norm_property_checks() {
  std::vector<std::string> names;
  for (const auto& [gamma, beta] : kGammaBeta) {
    for (const char* probe : kProbeLabels) {
      for (const char* statistic : {"mean", "variance"}) {
        names.push_back(fmt::format("{} {} (gamma {}, beta {})", probe, statistic, lab::number(gamma, 0),
                                    lab::number(beta, 0)));
      }
    }
  }
  for (const char* probe : kProbeLabels) names.push_back(rms_check_name(probe));
  return names;
}

void show_layer_norm_properties(lab::Report& report, const minimodel::MiniGPTConfig& config,
                                const std::vector<float>& z, nlohmann::json& json) {
  const std::size_t d = config.d_model();
  const double eps = config.ln_eps();
  // Four rows: the input's two, the block's z row 0 (after attention), and a nearly flat row
  // whose variance is close to eps, where eps visibly pulls the output's variance below 1.
  struct Probe {
    std::string label;
    std::vector<float> values;
  };
  const std::vector<Probe> probes = {
      {kProbeLabels[0], {row_of(kInput, 0, d).begin(), row_of(kInput, 0, d).end()}},
      {kProbeLabels[1], {row_of(kInput, 1, d).begin(), row_of(kInput, 1, d).end()}},
      {kProbeLabels[2], {row_of(z, 0, d).begin(), row_of(z, 0, d).end()}},
      {kProbeLabels[3], {0.01f, -0.01f, 0.01f, -0.01f}},
  };
  Matrix input({probes.size(), d});
  for (std::size_t r = 0; r < probes.size(); ++r) {
    std::copy(probes[r].values.begin(), probes[r].values.end(), input.data() + r * d);
  }

  // The model's own LayerNorm class, on a registry of its own so the block is not touched.
  minimodel::ParameterRegistry registry;
  const minimodel::LayerNorm norm(registry, "probe", d, eps);
  report.print("LayerNorm over the last axis, eps = {:g} inside the square root; the lab's own "
               "LayerNorm module",
               eps);
  report.print("a row of variance σ² comes out with variance γ²·σ²/(σ² + eps): 1 only up to eps");

  for (const auto& [gamma, beta] : kGammaBeta) {
    std::fill_n(registry.at("probe.gamma").data(), d, gamma);
    std::fill_n(registry.at("probe.beta").data(), d, beta);
    Matrix out;
    minimodel::NormStatistics statistics;
    norm.forward(input, out, statistics);
    report.print("");
    report.print("gamma = {}, beta = {}: want mean {} and variance {}·σ²/(σ² + eps)",
                 lab::number(gamma, 1), lab::number(beta, 1), lab::number(beta, 1),
                 lab::number(static_cast<double>(gamma) * gamma, 1));
    for (std::size_t r = 0; r < probes.size(); ++r) {
      const auto [in_mean, in_variance] = mean_and_variance(probes[r].values);
      const std::span<const float> y(out.data() + r * d, d);
      const auto [out_mean, out_variance] = mean_and_variance(y);
      const double want_variance =
          static_cast<double>(gamma) * gamma * in_variance / (in_variance + eps);
      report.print("  {:<9} {}  mean {}, σ² {}  ->  {}", probes[r].label,
                   lab::row(probes[r].values, 6), lab::number(in_mean), lab::number(in_variance),
                   lab::row(y));
      report.check_close(fmt::format("{} mean (gamma {}, beta {})", probes[r].label,
                                     lab::number(gamma, 0), lab::number(beta, 0)),
                         out_mean, beta, kPropertyTolerance);
      report.check_close(fmt::format("{} variance (gamma {}, beta {})", probes[r].label,
                                     lab::number(gamma, 0), lab::number(beta, 0)),
                         out_variance, want_variance, kPropertyTolerance);
      json.push_back({{"row", probes[r].label},
                      {"gamma", gamma},
                      {"beta", beta},
                      {"input_variance", in_variance},
                      {"mean", out_mean},
                      {"variance", out_variance},
                      {"expected_mean", beta},
                      {"expected_variance", want_variance}});
    }
  }

  // RMSNorm: no mean subtracted, no beta; a row of mean square m = mean(x²) comes out with mean
  // square γ²·m/(m + eps).
  const minimodel::LayerNorm rms(registry, "probe_rms", d, eps, minimodel::NormKind::rms_norm);
  std::fill_n(registry.at("probe_rms.gamma").data(), d, kRmsGamma);
  Matrix out;
  minimodel::NormStatistics statistics;
  rms.forward(input, out, statistics);
  report.print("");
  report.print("RMSNorm (theory 04's variant), gamma = {}: y = γ·x/√(mean(x²) + eps), want mean square "
               "{}·m/(m + eps)",
               lab::number(kRmsGamma, 1), lab::number(static_cast<double>(kRmsGamma) * kRmsGamma, 1));
  for (std::size_t r = 0; r < probes.size(); ++r) {
    const auto mean_square = [](std::span<const float> row) {
      double sum = 0.0;
      for (const float v : row) sum += static_cast<double>(v) * v;
      return sum / static_cast<double>(row.size());
    };
    const double in_ms = mean_square(probes[r].values);
    const std::span<const float> y(out.data() + r * d, d);
    const double want = static_cast<double>(kRmsGamma) * kRmsGamma * in_ms / (in_ms + eps);
    report.print("  {:<9} {}  m {}  ->  {}", probes[r].label, lab::row(probes[r].values, 6), lab::number(in_ms),
                 lab::row(y));
    report.check_close(rms_check_name(kProbeLabels[r]), mean_square(y), want, kPropertyTolerance);
    json.push_back({{"row", probes[r].label}, {"norm", "rmsnorm"}, {"gamma", kRmsGamma},
                    {"input_mean_square", in_ms}, {"mean_square", mean_square(y)}, {"expected_mean_square", want}});
  }
}

const std::string kGeluExactCheck = "the model's exact GELU matches the double reference at these points",
                  kGeluTanhCheck = "the model's tanh GELU matches the double reference at these points";

// The model's two fp32 GELUs (gelu.cpp) at a few points, held against the double reference.
// Each form is a piece of its own: each column is computed, and checked, on its own.
void show_gelu_table(lab::Report& report, nlohmann::json& json) {
  using minimodel::GeluForm;
  constexpr std::array<float, 9> kPoints = {-3.0f, -2.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f};
  std::vector<float> exact, tanh_form;
  const std::optional<minimodel::NotImplemented> exact_missing =
      lab::attempt([&] { for (const float x : kPoints) exact.push_back(minimodel::gelu_exact(x)); });
  const std::optional<minimodel::NotImplemented> tanh_missing =
      lab::attempt([&] { for (const float x : kPoints) tanh_form.push_back(minimodel::gelu_tanh(x)); });
  const auto cell = [](const std::vector<float>& column, std::size_t i, bool missing) {
    return missing ? std::string("—") : lab::number(column[i]);
  };
  report.print("exact: 0.5·x·(1 + erf(x/√2))   tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))");
  report.print("{:>6}  {:>10}  {:>10}  {:>11}", "x", "exact", "tanh", "exact−tanh");
  double worst_exact = 0.0, worst_tanh = 0.0;
  for (std::size_t i = 0; i < kPoints.size(); ++i) {
    const float x = kPoints[i];
    const double gap = reference::gelu(x, GeluForm::exact) - reference::gelu(x, GeluForm::tanh);
    if (!exact_missing) worst_exact = std::max(worst_exact, std::abs(exact[i] - reference::gelu(x, GeluForm::exact)));
    if (!tanh_missing) worst_tanh = std::max(worst_tanh, std::abs(tanh_form[i] - reference::gelu(x, GeluForm::tanh)));
    report.print("{:>6}  {:>10}  {:>10}  {:>11}", lab::number(x, 1), cell(exact, i, exact_missing.has_value()),
                 cell(tanh_form, i, tanh_missing.has_value()), lab::number(gap));
    json["table"].push_back({{"x", x}, {"difference", gap}});
    if (!exact_missing) json["table"].back()["exact"] = exact[i];
    if (!tanh_missing) json["table"].back()["tanh"] = tanh_form[i];
  }
  if (exact_missing) {
    report.not_implemented(*exact_missing, {kGeluExactCheck});
  } else {
    report.check_at_most(kGeluExactCheck, "max |model − reference|", worst_exact, kReferenceTolerance);
  }
  if (tanh_missing) {
    report.not_implemented(*tanh_missing, {kGeluTanhCheck});
  } else {
    report.check_at_most(kGeluTanhCheck, "max |model − reference|", worst_tanh, kReferenceTolerance);
  }
}

const std::string kFfnAloneCheck = "the FFN alone, on the reference's LN2(z), matches the reference's ffn.out";

// The FFN without the block around it: pieces 2, 4 and 5 can be checked before the block's
// pieces exist. Its input is the reference's LN2(z), rounded to fp32.
void show_ffn_alone(lab::Report& report, const minimodel::MiniGPT& model, const reference::Result& ref,
                    nlohmann::json& json) {
  const reference::Tensor& ln2 = reference::step(ref, "block_0.ln2");
  const reference::Tensor& want = reference::step(ref, "block_0.ffn.out");
  const std::size_t T = ln2.shape[0], d = ln2.shape[1];
  Matrix in({T, d});
  std::transform(ln2.data.begin(), ln2.data.end(), in.data(), [](double v) { return static_cast<float>(v); });
  Matrix out;
  model.block(0).ffn().forward(in, out);  // (T, d) -> (T, d): GELU(in·W_1 + b_1)·W_2 + b_2
  report.print("block_0.ffn on the reference's LN2(z): {} -> {}", minimodel::format_shape({T, d}),
               minimodel::format_shape({out.shape(0), out.shape(1)}));
  if (out.shape(0) != T || out.shape(1) != d) {
    throw lab::Missing(fmt::format("the FFN returned shape ({}, {}) ≠ ({}, {})", out.shape(0), out.shape(1), T, d));
  }
  for (std::size_t t = 0; t < T; ++t) {
    print_values(report, fmt::format("position {}", t), "model",
                 std::vector<double>(out.data() + t * d, out.data() + (t + 1) * d));
    print_values(report, "", "reference", std::span<const double>(want.data).subspan(t * d, d));
  }
  const double worst = lab::max_abs_diff(std::vector<double>(out.begin(), out.end()), want.data);
  report.check_at_most(kFfnAloneCheck, "max |model − reference|", worst, kReferenceTolerance);
  json = {{"model", std::vector<float>(out.begin(), out.end())}, {"reference", want.data}, {"max_abs_diff", worst}};
}

// The gap between the two forms over [−6, 6], from the double reference alone.
void show_gelu_sweep(lab::Report& report, nlohmann::json& json) {
  using minimodel::GeluForm;
  // The sweep, in double so the gap is not blurred by fp32 rounding. The gap is even in x:
  // both forms satisfy g(−x) = g(x) − x, so exact − tanh is the same at x and −x; the peak is
  // reported as ±|x| so that which of the two twins wins a near tie cannot change the output.
  constexpr int kPoints = 12001;  // [−6, 6] in steps of 0.001
  double worst = 0.0, where = 0.0;
  for (int i = 0; i < kPoints; ++i) {
    const double x = -6.0 + 0.001 * i;
    const double gap = std::abs(reference::gelu(x, GeluForm::exact) - reference::gelu(x, GeluForm::tanh));
    if (gap > worst) worst = gap, where = std::abs(x);
  }
  report.print("sweep of [−6, 6] in steps of 0.001 ({} points): max |exact − tanh| = {:.3e} at x = ±{}",
               kPoints, worst, lab::number(where, 3));
  // Both forms here are the reference's, in double: facts of the two formulas that no code of
  // the model can change (the model's own GELUs are checked in the table above).
  if (!(worst > 0.0 && worst < 1e-3)) {
    throw minimodel::Error(fmt::format("lab00: the reference's GELU forms differ by {:.3e} on [−6, 6]", worst));
  }
  report.fact("the two GELU formulas differ, by less than 1e-3 everywhere on [−6, 6]",
              fmt::format("0 < {:.3e} < 1.0e-03", worst));
  json["sweep"] = {{"from", -6.0}, {"to", 6.0}, {"step", 0.001}, {"max_abs_difference", worst},
                   {"at_abs_x", where}};
}

// ---------------------------------------------------------------------------------------------
// Backward through the block: the gradient of ONE output entry, L = y[1][0], sent back step by
// step (backward.hpp), then held against central finite differences of the double reference.

// fp32 gradient vs finite difference. The difference quotient of the double reference, step
// 1e-6 on values below 3, is exact to ~1e-9 (rounding ~1e-16·3/1e-6, truncation ~h²); what is
// left is the fp32 backward's rounding, which chains about twice as many operations as the
// forward on values of the same size: twice the forward's 1e-6. Measured: at most 3.6e-7.
constexpr double kGradientTolerance = 2e-6;
constexpr double kFiniteDifferenceStep = 1e-6;

// The weights whose gradient entries are differenced: one per kind of path (attention value,
// FFN hidden unit, LayerNorm gain).
struct WeightEntry {
  const char* name;
  std::size_t index;  // flat, row-major
  const char* label;
};
constexpr std::array<WeightEntry, 3> kWeightEntries = {WeightEntry{"block_0.attn.W_v", 0, "W_v[0][0]"},
                                                       WeightEntry{"block_0.ffn.W_1", 12, "W_1[0][12]"},
                                                       WeightEntry{"block_0.ln1.gamma", 0, "ln1.gamma[0]"}};

std::vector<std::string> backward_checks() {
  std::vector<std::string> names = {"dx vs finite differences of the double reference, all 8 entries of x"};
  for (const WeightEntry& w : kWeightEntries) names.push_back(fmt::format("∂L/∂{} vs finite difference", w.label));
  names.push_back("dy at position 0 alone sends exactly 0 to x at position 1 (causal)");
  return names;
}

void print_gradient(lab::Report& report, const std::string& label, const std::string& meaning, const Matrix& m) {
  report.print("{:<11} {}", label, meaning);
  for (std::size_t t = 0; t < m.shape(0); ++t) {
    report.print("  position {}  {}", t, lab::row(std::span<const float>(m.data() + t * m.shape(1), m.shape(1))));
  }
}

std::vector<float> flat(const Matrix& m) { return {m.data(), m.data() + m.size()}; }

// The same value in every entry, NaN counting as equal to NaN: a forward that produced a NaN
// gives the chain and block_backward NaNs in the same places (their payloads may differ).
template <class A, class B>
bool same_values(const A& a, const B& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float x = a.data()[i], y = b.data()[i];
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
  }
  return true;
}

void show_backward(lab::Report& report, const minimodel::MiniGPT& model, const Matrix& x, nlohmann::json& json) {
  const minimodel::TransformerBlock& block = model.block(0);
  const std::size_t T = x.shape(0), d = x.shape(1);

  // The forward again, this time keeping what the backward reads (the forward above kept
  // nothing: activations are kept only when a record is passed in the options).
  minimodel::ActivationRecord record;
  Matrix y;
  block.forward(x, y, {.activations = &record});
  const minimodel::BlockActivations& kept = record.blocks.at(0);
  // A block that skipped an operation recorded no activation for it: the backward has nothing
  // to read there, and every check of this section fails naming it.
  if (const std::string missing = minimodel::first_missing(kept, block.name()); !missing.empty()) {
    throw lab::Missing(fmt::format("the backward reads {}, which the block's forward never recorded", missing));
  }

  Matrix dy = xt::zeros<float>({T, d});
  dy(1, 0) = 1.0f;  // L = y[1][0]: ∂L/∂y is 1 there and 0 elsewhere

  // The chain, one piece at a time, in the order block_backward runs it.
  minimodel::Gradients grads = minimodel::zero_gradients(model.parameters());
  const auto gamma_grad = [&](const minimodel::LayerNorm& n) -> xt::xarray<float>& { return grads.at(n.gamma().name); };
  const auto beta_grad = [&](const minimodel::LayerNorm& n) { return &grads.at(n.beta()->name); };
  const Matrix d_ln2 = minimodel::ffn_backward(block.ffn(), kept.ffn, dy, grads);
  Matrix dz_branch, dx_branch;
  minimodel::norm_backward(block.ln2(), kept.resid1, kept.ln2_stats, d_ln2, dz_branch, gamma_grad(block.ln2()),
                           beta_grad(block.ln2()));
  Matrix dz = dy + dz_branch;
  const Matrix d_ln1 = minimodel::attention_backward(block.attn(), kept.attn, dz, grads, {});
  minimodel::norm_backward(block.ln1(), x, kept.ln1_stats, d_ln1, dx_branch, gamma_grad(block.ln1()),
                           beta_grad(block.ln1()));
  Matrix dx = dz + dx_branch;

  report.print("L = y[1][0], one output entry; every gradient below is ∂L/∂(that tensor), shape (2, 4)");
  print_gradient(report, "dy", "upstream: 1 at position 1, dim 0", dy);
  print_gradient(report, "d ln2", "FFN branch back: (dy·W_2ᵀ ⊙ GELU'(pre))·W_1ᵀ", d_ln2);
  print_gradient(report, "dz branch", "LN2 back: r·(g − mean(g) − x̂·mean(g ⊙ x̂)), g = γ ⊙ d ln2", dz_branch);
  print_gradient(report, "dz", "= dy (identity path) + dz branch", dz);
  print_gradient(report, "d ln1", "attention branch back: W_o, softmax, RoPE⁻¹, W_q, W_k, W_v", d_ln1);
  print_gradient(report, "dx branch", "LN1 back", dx_branch);
  print_gradient(report, "dx", "= dz (identity path) + dx branch", dx);
  report.print("dx[1][0] = {} (dy, straight down both identity paths) + ({}) (FFN branch) + ({}) "
               "(attention branch) = {}",
               lab::number(dy(1, 0)), lab::number(dz_branch(1, 0)), lab::number(dx_branch(1, 0)),
               lab::number(dx(1, 0)));
  report.print("position 0 receives {} through attention alone: position 1 read it",
               lab::row(std::span<const float>(dx.data(), d)));

  // The library's block_backward must be exactly this chain.
  minimodel::Gradients whole = minimodel::zero_gradients(model.parameters());
  const Matrix dx_whole = minimodel::block_backward(block, kept, dy, whole);
  bool same = same_values(dx_whole, dx);
  for (const auto& [name, g] : whole.parameters) same = same && same_values(g, grads.at(name));
  // Both sides are the library's backward on the same stored activations: whatever the
  // forward computed, they agree. A fact of the library, not a check of the forward.
  if (!same) throw minimodel::Error("lab00: the chain above differs from block_backward");
  report.fact("the chain above is block_backward's, bit for bit");

  // Finite differences of the double reference: dx entry by entry, then three weights.
  const minimodel::MiniGPTConfig& config = model.config();
  const double h = kFiniteDifferenceStep;
  const auto L_of = [&](const reference::Weights& w, const std::vector<double>& x_values) {
    return reference::block_forward(config, w, 0, reference::Tensor{{T, d}, x_values}).output.data[1 * d + 0];
  };
  reference::Weights weights = reference::to_double(model.parameters());
  const std::vector<double> x0(x.data(), x.data() + x.size());
  report.print("");
  report.print("finite differences, double reference, central, step {:g}:", h);
  report.print("  {:<13} {:>12} {:>12}", "entry", "analytic", "difference");
  double worst_x = 0.0;
  nlohmann::json fd = nlohmann::json::array();
  for (std::size_t i = 0; i < x0.size(); ++i) {
    std::vector<double> plus = x0, minus = x0;
    plus[i] += h;
    minus[i] -= h;
    const double numeric = (L_of(weights, plus) - L_of(weights, minus)) / (2 * h);
    const double analytic = dx.data()[i];
    worst_x = std::max(worst_x, std::abs(analytic - numeric));
    report.print("  {:<13} {:>12} {:>12}", fmt::format("x[{}][{}]", i / d, i % d), lab::number(analytic),
                 lab::number(numeric));
    fd.push_back({{"entry", fmt::format("x[{}][{}]", i / d, i % d)}, {"analytic", analytic}, {"numeric", numeric}});
  }
  report.check_at_most("dx vs finite differences of the double reference, all 8 entries of x",
                       "max |analytic − difference|", worst_x, kGradientTolerance);
  for (const WeightEntry& w : kWeightEntries) {
    double& entry = weights.at(w.name).data.at(w.index);
    const double saved = entry;
    entry = saved + h;
    const double plus = L_of(weights, x0);
    entry = saved - h;
    const double minus = L_of(weights, x0);
    entry = saved;
    const double numeric = (plus - minus) / (2 * h);
    const double analytic = grads.at(w.name).data()[w.index];
    report.check_close(fmt::format("∂L/∂{} vs finite difference", w.label), analytic, numeric, kGradientTolerance);
    fd.push_back({{"entry", w.label}, {"analytic", analytic}, {"numeric", numeric}});
  }

  // Causality, backwards: position 0 never read position 1, so a gradient at position 0
  // alone must reach x at position 1 as exact zeros.
  Matrix dy0 = xt::zeros<float>({T, d});
  dy0(0, 0) = 1.0f;
  minimodel::Gradients unused = minimodel::zero_gradients(model.parameters());
  const Matrix dx0 = minimodel::block_backward(block, kept, dy0, unused);
  bool zero = true;
  for (std::size_t c = 0; c < d; ++c) zero = zero && dx0(1, c) == 0.0f;
  report.check("dy at position 0 alone sends exactly 0 to x at position 1 (causal)", zero,
               fmt::format("dx[1] = {}", lab::row(std::span<const float>(dx0.data() + d, d))));

  json = {{"objective", "y[1][0]"},
          {"dy", flat(dy)},
          {"dz", flat(dz)},
          {"dx", flat(dx)},
          {"finite_differences", fd},
          {"tolerance", kGradientTolerance},
          {"step", h}};
}

void show_summary(lab::Report& report, const std::vector<StepOutcome>& outcomes) {
  report.print("{:<22} {:>22} {:>24}", "step", "max |model − chapter|", "max |model − reference|");
  for (const StepOutcome& o : outcomes) {
    report.print("{:<22} {:>22.1e} {:>24.1e}", o.name, o.vs_chapter, o.vs_reference);
  }
  report.print("{:<22} {:>22.1e} {:>24.1e}", "tolerance", kChapterTolerance, kReferenceTolerance);
}

int run_lab(const lab::CommonOptions& options) {
  lab::Report report(kLab, options);
  nlohmann::json& results = report.results();

  // Build the toy: the model's block_0 with every parameter overwritten by name.
  const minimodel::MiniGPTConfig config = toy_config();
  minimodel::MiniGPT model(config, options.seed);
  const std::vector<HandSetParameter> hand_set = toy_parameters();
  for (const HandSetParameter& p : hand_set) set_parameter(model, p);

  const std::size_t T = 2, d = config.d_model();
  Matrix x({T, d});
  std::copy(kInput.begin(), kInput.end(), x.data());

  // The model's fp32 block, recording every intermediate with its values. In the starter build
  // a piece may not be implemented yet: the steps traced before it are shown, the rest say so.
  minimodel::TraceRecorder recorder(true);
  Matrix y;
  const std::optional<minimodel::NotImplemented> stopped =
      lab::attempt([&] { model.block(0).forward(x, y, {.tracer = &recorder}); });

  // The double reference on the same weights and input.
  const reference::Tensor x_double{{T, d}, std::vector<double>(kInput.begin(), kInput.end())};
  const reference::Result ref =
      reference::block_forward(config, model.parameters(), 0, x_double, {.keep_steps = true});

  results["config"] = minimodel::config_to_json(config);
  results["input"] = kInput;
  results["tolerances"] = {{"chapter", kChapterTolerance},
                           {"reference", kReferenceTolerance},
                           {"layer_norm_properties", kPropertyTolerance}};
  std::vector<StepOutcome> outcomes;
  Toy toy{recorder, ref, outcomes, results["steps"], d, stopped};
  // One step, or a step and the facts printed under it, with the checks they print.
  const auto step = [&](const std::string& name, const ExtraRows& extra = {}) {
    report.guard({name + " vs chapter", name + " vs reference"}, [&] { show_step(report, toy, name, extra); });
  };

  report.number_next_section(0);  // the toy is section 0, so section N is the chapter's Step N
  report.section("The toy");
  show_toy(report, model, hand_set);

  report.section("LN1");
  report.print("each row: subtract its mean, divide by √(variance + eps); gamma 1, beta 0");
  step("block_0.ln1");

  report.section("Projections q, k, v");
  report.print("W_q = W_k = I; W_v lower triangular; heads are columns 0-1 and 2-3");
  for (const char* name : {"block_0.attn.q", "block_0.attn.k", "block_0.attn.v"}) step(name);

  report.section("RoPE");
  report.print("q and k only (not v); position 0 is the identity, position 1 is where RoPE acts");
  step("block_0.attn.q_rope");
  step("block_0.attn.k_rope");
  report.guard(rope_fact_checks(config.n_heads()),
               [&] { show_rope_facts(report, toy, config.rope_base(), config.n_heads(), config.d_head()); });

  report.section("Scores");
  report.print("one (T, T) block per head: row = query position, column = key position");
  step("block_0.attn.scores");

  report.section("Mask");
  report.print("query i may not look at key j > i: that score becomes -inf");
  step("block_0.attn.masked");

  report.section("Softmax");
  step("block_0.attn.weights");
  report.guard(kSoftmaxFactChecks, [&] { show_softmax_facts(report, toy, config.n_heads(), T); });

  report.section("Head outputs");
  report.print("head h's output = weights_h · v_h, written into columns of head h");
  step("block_0.attn.heads");

  report.section("Output projection W_o");
  step("block_0.attn.out");

  report.section("Residual 1");
  step("block_0.resid1");

  report.section("LN2");
  step("block_0.ln2");

  report.section("FFN pre-activation");
  report.print("column 4k + i = LN2 dimension i + the offset of copy k (in parentheses)");
  step("block_0.ffn.pre");

  report.section("GELU");
  report.print("the model uses the exact form; the tanh form is shown beside it on the same inputs");
  step("block_0.ffn.gelu", gelu_extra_rows(report, recorder));
  report.guard({kGeluGapCheck}, [&] { show_gelu_gap_in_block(report, toy); });

  report.section("FFN output");
  report.print("W_2 averages the four copies of each dimension (0.25 each); b_2 = [0.25, 0, 0, -0.25]");
  step("block_0.ffn.out");

  report.section("Residual 2: the block output");
  step("block_0.resid2");
  report.fact("the block returns the buffer traced as resid2: the trace records the forward's own outputs");

  report.section("LayerNorm properties");
  // The block's z row 0 is one of the probes; while the block is not implemented yet, the
  // reference's z stands in for it (rounded to fp32), so these checks need LayerNorm alone.
  std::vector<float> z;
  if (!report.guard({}, [&] { z = need(toy, "block_0.resid1").values; })) {
    const std::vector<double>& z_reference = reference::step(ref, "block_0.resid1").data;
    for (const double value : z_reference) z.push_back(static_cast<float>(value));
    report.print("(z row 0 below is the reference's: the model's block did not compute it)");
  }
  report.guard(layer_norm_property_checks(),
               [&] { show_layer_norm_properties(report, config, z, results["layer_norm_properties"]); });

  report.section("The FFN on its own");
  report.guard({kFfnAloneCheck}, [&] { show_ffn_alone(report, model, ref, results["ffn_alone"]); });

  report.section("Exact vs tanh GELU");
  show_gelu_table(report, results["gelu_forms"]);
  show_gelu_sweep(report, results["gelu_forms"]);

  report.section("Backward through the block");
  report.guard(backward_checks(), [&] { show_backward(report, model, x, results["backward"]); });

  report.section("Summary");
  show_summary(report, outcomes);

  return report.finish();
}

}  // namespace

int main(int argc, char** argv) {
  lab::CommonOptions options;
  lab::LabCommandLine app(kLab, options);
  app.footer(
      "The toy's block_0 weights are all set by hand. --seed is accepted like in every lab, but\n"
      "it only initialises the parameters this lab does not set (the embedding E), which it\n"
      "never reads: the output is the same for every seed apart from the 'seed:' line.\n"
      "Exit status: 0 when every check passes, 1 when one fails, 2 on a bad flag or an error.");
  return lab::run(app, argc, argv, [&] { return run_lab(options); });
}
