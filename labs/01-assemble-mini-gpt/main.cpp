// Lab 01 · Assemble Mini-GPT (CONVENTIONS.md §12.1).
//
// The locked model on the canonical sequence "<bos> I work , you work , he", accounted for
// operation by operation:
//   1. the config and the weights used;   2. the tokens and their ids;
//   3. the shape trace of all 37 operations, from a TraceRecorder on the real forward;
//   4. the logits: shape (T, V) and finiteness;
//   5. the model against the hand-made double-precision reference, with the tolerance;
//   6. every input position reaches the last output (perturb one token, watch the last row);
//   7. the top-5 next-token guesses, with a check that their order is not fp32 noise.
//
// Everything printed is either a word, an integer that is the same on every machine, or a
// decimal that labdiff compares with a tolerance; nothing that could flip (an argmax index
// of the worst entry, a count of "changed" values) is printed raw.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lab.hpp"
#include "reference_match.hpp"
#include "minimodel/config_json.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/reference.hpp"
#include "minimodel/tolerance.hpp"
#include "minimodel/trace.hpp"
#include "minimodel/vocab.hpp"
#include "minimodel/io/weights_io.hpp"
#include "svg.hpp"

namespace {

using minimodel::Matrix;
using minimodel::MiniGPT;
using minimodel::MiniGPTConfig;
using minimodel::TokenId;
using minimodel::ReferenceTolerance;
using minimodel::Vocabulary;

const lab::LabInfo kLab = {
    "01", "Assemble Mini-GPT", "labs/01-assemble-mini-gpt/README.md", "1 to 10",
    "the locked model on \"<bos> I work , you work , he\", with\n"
    "the shape of every operation, the check against the double-precision reference, and the\n"
    "next-token guesses."};
namespace ref = minimodel::reference;

struct LabOptions {
  lab::CommonOptions common;
  std::string text{minimodel::kCanonicalText};
  std::string save_weights;  // empty: do not save
  std::string load_weights;  // empty: use the seeded initialisation
  std::string svg_dir;       // empty: no diagrams
};

std::vector<double> logits_row(const Matrix& logits, std::size_t t) {
  const std::size_t V = logits.shape(1);
  const float* row = logits.data() + t * V;
  return std::vector<double>(row, row + V);
}

// ---------------------------------------------------------------------------------------------
// Sections.

// The checks, by name: the sections print them, and name them when the forward is missing.
const std::string kTraceCheck = "the model runs the reference's operations";
const std::string kValuesCheck = "every operation matches the reference";
const std::string kFiniteCheck = "every logit is finite";
const std::string kReferenceCheck = "model matches the reference within tolerance";
const std::string kFlowCheck = "the last output depends on every input position";
const std::string kOrderCheck = "the top-5 order is wider than fp32 noise";

void print_configuration(lab::Report& report, const MiniGPT& model, const LabOptions& options) {
  const MiniGPTConfig& c = model.config();
  report.section("Configuration");
  report.print("config: {}", c.describe());  // every field, from the config's one table of fields
  report.print("RoPE rotates interleaved pairs (2i, 2i+1); the LM head is tied to E");
  report.print("parameters: {} (summed over the model's tensors; lab 02 counts them one by one)",
               lab::with_commas(model.parameter_count()));
  if (options.load_weights.empty()) {
    report.print("weights: initialised from seed {} (simple Gaussian init, CONVENTIONS.md §10)",
                 options.common.seed);
  } else {
    report.print("weights: loaded from {} (they replace the seed-{} initialisation)",
                 options.load_weights, options.common.seed);
  }
  if (!options.save_weights.empty()) {
    report.print("saved these weights to {} (safetensors, F32)", options.save_weights);
  }
  nlohmann::json& r = report.results();
  r["config"] = minimodel::config_to_json(c);
  r["parameter_count"] = model.parameter_count();
  r["weights"] = options.load_weights.empty()
                     ? nlohmann::json{{"source", "seed"}, {"seed", options.common.seed}}
                     : nlohmann::json{{"source", "file"}, {"path", options.load_weights}};
}

void print_tokens(lab::Report& report, const Vocabulary& vocab, const std::vector<TokenId>& tokens,
                  const MiniGPTConfig& config) {
  report.section("Tokens");
  report.print("text: {}", vocab.decode(tokens));
  report.print("T = {} tokens (at most context_len = {}); split on whitespace, one id per word",
               tokens.size(), config.context_len());
  std::size_t word_width = 5;
  for (const TokenId id : tokens) word_width = std::max(word_width, lab::display_width(vocab.word(id)));
  report.print("position  {}  id  kind", lab::pad_right("token", word_width));
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    report.print("{:>8}  {}  {:>2}  {}", t, lab::pad_right(vocab.word(tokens[t]), word_width),
                 tokens[t], vocab.kind(tokens[t]));
  }
  std::string ids;
  for (const TokenId id : tokens) ids += fmt::format("{}{}", ids.empty() ? "" : " ", id);
  report.print("ids: {}", ids);

  nlohmann::json& r = report.results();
  r["text"] = vocab.decode(tokens);
  r["token_ids"] = tokens;
  std::vector<std::string> words;
  for (const TokenId id : tokens) words.push_back(vocab.word(id));
  r["tokens"] = words;
}

void print_shape_trace(lab::Report& report, const MiniGPT& model,
                       const minimodel::TraceRecorder& recorder, const ref::Result& reference,
                       const ReferenceTolerance& tol, std::size_t T) {
  const MiniGPTConfig& c = model.config();
  const auto& entries = recorder.entries();
  report.section("Shape trace");
  report.print("every operation of one forward, as the model reports it to a TraceRecorder, with");
  report.print("the largest |model − reference| over its output (the reference's step of the same name);");
  report.print("linear maps are y = x·W + b with W of shape (d_in, d_out); T = {}, H = {} heads", T,
               c.n_heads());

  // Each operation against the reference's step of the same name, if the reference has one.
  const std::vector<std::optional<lab::OperationMatch>> matches = lab::match_operations(entries, reference, tol);

  // Column widths from the data, so a longer --text or another config still lines up.
  std::vector<std::string> inputs;
  std::size_t name_w = lab::display_width("operation"), inputs_w = lab::display_width("inputs"), output_w = lab::display_width("output");
  for (const auto& e : entries) {
    inputs.push_back(lab::format_inputs(e.event));
    name_w = std::max(name_w, lab::display_width(e.event.name));
    inputs_w = std::max(inputs_w, lab::display_width(inputs.back()));
    output_w = std::max(output_w, lab::display_width(minimodel::format_shape(e.event.output)));
  }
  report.print(" #  {}  {}     {}  {}  formula", lab::pad_right("operation", name_w),
               lab::pad_right("inputs", inputs_w), lab::pad_right("output", output_w), lab::pad_left("vs ref", 7));
  nlohmann::json trace = nlohmann::json::array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const minimodel::TraceEvent& e = entries[i].event;
    const std::string output = minimodel::format_shape(e.output);
    const std::string versus = matches[i] ? fmt::format("{:.1e}", matches[i]->max_diff) : "none";
    report.print("{:>2}  {}  {} ->  {}  {}  {}", i + 1, lab::pad_right(e.name, name_w),
                 lab::pad_right(inputs[i], inputs_w), lab::pad_right(output, output_w), lab::pad_left(versus, 7), e.formula);
    nlohmann::json inputs_json = nlohmann::json::array();
    for (const minimodel::Shape& s : e.inputs) inputs_json.push_back(s);
    trace.push_back({{"name", e.name},
                     {"inputs", inputs_json},
                     {"combine", e.combine},
                     {"output", e.output},
                     {"formula", e.formula},
                     {"max_abs_diff_reference", matches[i] ? nlohmann::json(matches[i]->max_diff) : nlohmann::json()}});
  }
  // Where the shapes change meaning, in words (numbers from the config, not typed in).
  const std::size_t d = c.d_model(), H = c.n_heads(), dh = c.d_head(), V = c.vocab_size();
  report.print("heads split: q and k ({}, {}) are read as {} column blocks of width {}, so the",
               T, d, H, dh);
  report.print("  scores multiply ({}, {}, {}) by kᵀ ({}, {}, {}); no copy is made", H, T, dh, H, dh, T);
  report.print("heads concat: head h writes weights_h·v_h ({}, {}) into columns {}h..{}h+{}: ({}, {})",
               T, dh, dh, dh, dh - 1, T, d);
  report.print("logits: h ({}, {}) · Eᵀ ({}, {}), E being the embedding's own ({}, {}) storage", T, d,
               d, V, V, d);
  report.print("vs ref: |model − reference| <= atol + rtol·|reference| entrywise, as in section 5");

  // The operations: the reference's, by name, shape and order. The first difference is named.
  const std::size_t expected_ops = reference.steps.size();
  const std::string operations_failure = lab::first_operation_mismatch(entries, reference);
  report.check(kTraceCheck, operations_failure.empty(),
               fmt::format("{} recorded == {} = 1 (embed) + 17 × {} blocks + 2 (ln_final, logits), same names, "
                           "shapes and order",
                           entries.size(), expected_ops, c.n_layers()),
               operations_failure);

  // The values: the first operation whose output leaves the tolerance is where the mistake is.
  std::size_t compared = 0;
  const std::string values_failure = lab::first_divergence(entries, reference, matches, compared);
  report.check(kValuesCheck, values_failure.empty(),
               fmt::format("all {} operations, every entry |diff| <= {:.2e} + {:.2e}·|ref|", compared, tol.atol,
                           tol.rtol),
               values_failure);

  nlohmann::json& r = report.results();
  r["trace"] = trace;
  r["operation_count"] = entries.size();
}

void print_logits(lab::Report& report, const Matrix& logits, const MiniGPTConfig& config,
                  std::size_t T) {
  report.section("Logits");
  const std::size_t rows = logits.shape(0), cols = logits.shape(1), V = config.vocab_size();
  report.print("shape ({}, {}): one row per position, one score per vocabulary token;", rows, cols);
  report.print("row t scores the token that would follow position t. No softmax inside the model.");
  // The head sizes its output before the product is computed, whatever the product does.
  if (rows != T || cols != V) {
    throw minimodel::Error(fmt::format("lab01: the logits are ({}, {}), not (T, V) = ({}, {})", rows, cols, T, V));
  }
  report.fact("the logits are (T, vocab_size)", fmt::format("({}, {}): the head allocates that shape", rows, cols));
  std::size_t finite = 0;
  double lo = INFINITY, hi = -INFINITY, sum = 0.0, squares = 0.0;
  for (const float value : logits) {
    const double x = value;
    if (!std::isfinite(x)) continue;
    ++finite;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
  }
  const double mean = finite > 0 ? sum / static_cast<double>(finite) : 0.0;
  for (const float value : logits) {
    if (std::isfinite(value)) squares += (value - mean) * (value - mean);
  }
  const double stddev = finite > 0 ? std::sqrt(squares / static_cast<double>(finite)) : 0.0;
  report.check(kFiniteCheck, finite == logits.size(), fmt::format("{} of {} values finite", finite, logits.size()),
               fmt::format("{} of {} values are NaN or ±inf (the shape trace names where they start)",
                           logits.size() - finite, logits.size()));
  report.print("over all {} values: min {}, max {}, mean {}, std {}", logits.size(),
               lab::number(lo), lab::number(hi), lab::number(mean), lab::number(stddev));

  nlohmann::json& r = report.results();
  r["logits_shape"] = minimodel::Shape{rows, cols};
  nlohmann::json all = nlohmann::json::array();
  for (std::size_t t = 0; t < rows; ++t) all.push_back(logits_row(logits, t));
  r["logits"] = all;
  r["logits_all_finite"] = finite == logits.size();
}

void print_reference(lab::Report& report, const MiniGPT& model, const Vocabulary& vocab,
                     const Matrix& logits, const ref::Result& reference, const ReferenceTolerance& tol) {
  report.section("Model vs reference");
  const std::size_t T = logits.shape(0), V = logits.shape(1);
  report.print("model:     xtensor + OpenBLAS in fp32 (src/minimodel/model.cpp)");
  report.print("reference: plain loops in double (src/minimodel/reference.cpp), same {} weights",
               lab::with_commas(model.parameter_count()));
  report.print("entrywise rule: |model − reference| <= atol + rtol·|reference|");
  report.print("  atol = rtol = L·K·u = {}·{}·2⁻²⁴ = {:.2e}", tol.layers, tol.longest_sum, tol.rtol);
  report.print("  u = 2⁻²⁴ is fp32's unit roundoff; K = {} terms in the longest dot product (ffn.out);",
               tol.longest_sum);
  report.print("  each of the L = {} blocks adds its own rounding to the residual stream", tol.layers);

  // A few (model, reference) pairs from the last row, the one section 7 reads.
  report.print("a few entries of the last row (position {}):", T - 1);
  report.print("  {:<14}  {:>10}  {:>10}", "logit", "model", "reference");
  for (const std::string_view word : {"works", "work", "he"}) {
    const TokenId id = vocab.id(word);
    const std::size_t k = (T - 1) * V + static_cast<std::size_t>(id);
    report.print("  {:<14}  {:>10}  {:>10}", fmt::format("[{}, {}] {}", T - 1, id, word),
                 lab::number(logits.data()[k]), lab::number(reference.output.data[k]));
  }

  double max_diff = 0.0;
  std::size_t outside = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double r = reference.output.data[i];
    const double diff = std::abs(static_cast<double>(logits.data()[i]) - r);
    if (!(diff <= tol.at(r))) ++outside;       // NaN compares false: it fails
    if (!(diff <= max_diff)) max_diff = diff;  // keeps a NaN once seen
  }
  const bool all_within = outside == 0;
  // Scientific, one decimal: the exact digits vary between CPUs and BLAS kernels.
  report.print("max |model − reference| over the {} logits: {:.1e}", logits.size(), max_diff);
  report.check(kReferenceCheck, all_within,
               fmt::format("all {} entries: |diff| <= {:.2e} + {:.2e}·|ref|", logits.size(), tol.atol, tol.rtol),
               fmt::format("{} of {} entries: |diff| > {:.2e} + {:.2e}·|ref|", outside, logits.size(), tol.atol,
                           tol.rtol));

  report.results()["reference"] = {{"max_abs_diff", max_diff},
                                   {"atol", tol.atol},
                                   {"rtol", tol.rtol},
                                   {"within_tolerance", all_within}};
}

void print_information_flow(lab::Report& report, const MiniGPT& model, const Vocabulary& vocab,
                            const std::vector<TokenId>& tokens, const Matrix& logits,
                            const ReferenceTolerance& tol) {
  report.section("Every input reaches the last output");
  const std::size_t T = tokens.size(), V = model.config().vocab_size(), last = T - 1;
  constexpr std::size_t kShift = 7;  // the same replacement rule as CONVENTIONS.md §11: (id + 7) mod V
  report.print("replace the token at position j by id (id + {}) mod {}, run the forward again, and",
               kShift, V);
  report.print("measure Δ_j = max over the {} logits of row {} of |new − old|:", V, last);
  const std::vector<double> before = logits_row(logits, last);

  struct Perturbation {
    TokenId replacement;
    std::string label;           // "work → walks"
    std::vector<double> after;   // the last row of logits with the token replaced
    double delta = 0.0;          // max |after − before| over that row
  };
  std::vector<Perturbation> runs;
  double largest_logit = 0.0;
  for (const double x : before) largest_logit = std::max(largest_logit, std::abs(x));
  for (std::size_t j = 0; j < T; ++j) {
    std::vector<TokenId> perturbed = tokens;
    perturbed[j] = static_cast<TokenId>((static_cast<std::size_t>(tokens[j]) + kShift) % V);
    Perturbation run{perturbed[j],
                     fmt::format("{} → {}", vocab.word(tokens[j]), vocab.word(perturbed[j])),
                     logits_row(model.forward(perturbed), last)};
    for (std::size_t k = 0; k < V; ++k) {
      const double change = std::abs(run.after[k] - before[k]);
      if (!(change <= run.delta)) run.delta = change;  // a NaN sticks and fails the check below
      largest_logit = std::max(largest_logit, std::abs(run.after[k]));
    }
    runs.push_back(std::move(run));
  }
  // Each forward is within tol.at(logit) of the exact function (section 5), so two of them
  // can differ by up to twice that through rounding alone; a Δ above it is a real dependence.
  // (Δ > 0 would not do: a change made only of rounding would pass it.)
  const double noise_floor = 2.0 * tol.at(largest_logit);

  std::size_t label_width = lab::display_width("token → replacement");
  for (const Perturbation& run : runs) label_width = std::max(label_width, lab::display_width(run.label));
  report.print("  j  {}  {}", lab::pad_right("token → replacement", label_width), lab::pad_left("Δ_j", 8));
  double smallest = INFINITY;
  nlohmann::json flow = nlohmann::json::array();
  for (std::size_t j = 0; j < T; ++j) {
    const Perturbation& run = runs[j];
    if (!(run.delta >= smallest)) smallest = run.delta;
    report.print("{:>3}  {}  {}", j, lab::pad_right(run.label, label_width),
                 lab::pad_left(lab::number(run.delta), 8));
    flow.push_back({{"position", j},
                    {"token", tokens[j]},
                    {"replacement", run.replacement},
                    {"max_abs_delta_last_row", run.delta}});
  }
  report.print("noise floor 2·(atol + rtol·max|logit|) = {:.1e}: a smaller Δ could be rounding alone",
               noise_floor);
  report.check(kFlowCheck, smallest > noise_floor,
               fmt::format("smallest Δ_j {} > noise floor {:.1e}", lab::number(smallest), noise_floor),
               fmt::format("smallest Δ_j {} <= noise floor {:.1e}", lab::number(smallest), noise_floor));
  report.print("(the other direction, an earlier output never seeing a later input, is lab 03)");

  nlohmann::json& r = report.results();
  r["information_flow"] = flow;
  r["information_flow_noise_floor"] = noise_floor;
}

void print_next_token(lab::Report& report, const Vocabulary& vocab,
                      const std::vector<TokenId>& tokens, const Matrix& logits, const ReferenceTolerance& tol) {
  report.section("Next-token guesses");
  const std::size_t last = tokens.size() - 1;
  const std::vector<double> z = logits_row(logits, last);
  const std::size_t V = z.size();
  report.print("after \"{}\": softmax of logits row {}, computed here in double with the row max",
               vocab.word(tokens[last]), last);
  report.print("subtracted (the model itself stops at logits)");

  const double max_logit = *std::max_element(z.begin(), z.end());
  std::vector<double> p(V);
  double total = 0.0;
  for (std::size_t k = 0; k < V; ++k) total += p[k] = std::exp(z[k] - max_logit);
  for (double& x : p) x /= total;
  double entropy = 0.0;
  for (const double x : p) {
    if (x > 0.0) entropy -= x * std::log(x);
  }
  const double uniform = 1.0 / static_cast<double>(V);

  // Highest logit first; equal logits by id, so the order is defined even for an exact tie.
  std::vector<std::size_t> order(V);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return z[a] > z[b]; });
  constexpr std::size_t kTop = 5;
  const std::size_t shown = std::min(kTop, V);

  report.print("{:>4}  {:>2}  {}  {:>9}  {:>11}  {:>9}", "rank", "id", lab::pad_right("token", 6), "logit",
               "probability", lab::pad_left("× uniform", 9));
  nlohmann::json top = nlohmann::json::array();
  for (std::size_t r = 0; r < shown; ++r) {
    const std::size_t k = order[r];
    const TokenId id = static_cast<TokenId>(k);
    report.print("{:>4}  {:>2}  {}  {:>9}  {:>11}  {:>9}", r + 1, k, lab::pad_right(vocab.word(id), 6),
                 lab::number(z[k]), lab::number(p[k]), lab::number(p[k] / uniform, 3));
    top.push_back({{"rank", r + 1}, {"id", k}, {"token", vocab.word(id)}, {"logit", z[k]},
                   {"probability", p[k]}});
  }
  const TokenId works = vocab.id("works");
  const std::size_t w = static_cast<std::size_t>(works);
  if (vocab.decode(tokens) == minimodel::kCanonicalText) {
    report.print("p(works) = {} for the grammatical answer: the untrained model does not favour it",
                 lab::number(p[w]));
  } else {
    report.print("p(works) = {}", lab::number(p[w]));
  }
  report.print("uniform 1/{} = {}; the untrained model's guesses are all close to it", V,
               lab::number(uniform));
  report.print("entropy {} nats vs log({}) = {} for the uniform distribution ({}%)",
               lab::number(entropy), V, lab::number(std::log(static_cast<double>(V))),
               lab::number(100.0 * entropy / std::log(static_cast<double>(V)), 3));

  // The printed order must be the same on every machine. Each logit is within tol.at(z) of
  // the machine-independent exact value (section 5), so a gap wider than the two neighbours'
  // tolerances cannot be reordered by rounding. Ranks 1..5 and the boundary 5|6 are checked.
  double smallest_margin = INFINITY, smallest_gap = INFINITY, needed = 0.0;
  for (std::size_t r = 0; r + 1 < std::min(shown + 1, V); ++r) {
    const double a = z[order[r]], b = z[order[r + 1]];
    const double gap = a - b, allowed = tol.at(a) + tol.at(b);
    if (!(gap - allowed >= smallest_margin)) {
      smallest_margin = gap - allowed;
      smallest_gap = gap;
      needed = allowed;
    }
  }
  report.check(kOrderCheck, smallest_margin > 0.0,
               fmt::format("smallest gap between neighbouring ranks (1..6) {} > {:.1e}", lab::number(smallest_gap),
                           needed),
               fmt::format("smallest gap between neighbouring ranks (1..6) {} <= {:.1e}", lab::number(smallest_gap),
                           needed));

  nlohmann::json& r = report.results();
  r["next_token"] = {{"position", last},   {"top", top},
                     {"uniform", uniform}, {"entropy_nats", entropy},
                     {"log_vocab", std::log(static_cast<double>(V))},
                     {"p_works", p[w]},    {"smallest_rank_gap", smallest_gap}};
}

// ---------------------------------------------------------------------------------------------
// Diagrams (--svg DIR). They read the same forward the sections print; nothing here changes
// stdout.

// "3 · ,": a position and its word, the axis labels of the attention maps.
std::vector<std::string> position_labels(const Vocabulary& vocab, const std::vector<TokenId>& tokens) {
  std::vector<std::string> labels;
  for (std::size_t t = 0; t < tokens.size(); ++t) labels.push_back(fmt::format("{} · {}", t, vocab.word(tokens[t])));
  return labels;
}

// diagrams/attention-block_i.svg: the (H, T, T) softmax weights of one block, one heatmap per
// head, queries down, keys across. Masked weights are exactly 0 (−∞ before the softmax), so
// they are drawn grey: that is structure, not a small number.
lab::svg::Document attention_svg(const MiniGPTConfig& c, const Vocabulary& vocab, const std::vector<TokenId>& tokens,
                                 const minimodel::TraceRecorder& values, std::size_t block) {
  namespace svg = lab::svg;
  const std::string name = fmt::format("block_{}.attn.weights", block);
  const minimodel::TraceRecorder::Entry& entry = values.at(name);
  const std::size_t H = c.n_heads(), T = tokens.size();
  if (entry.event.output != minimodel::Shape{H, T, T} || entry.values.size() != H * T * T) {
    throw minimodel::Error(fmt::format("{}: expected values of shape ({}, {}, {}), got {}", name, H, T, T,
                                       minimodel::format_shape(entry.event.output)));
  }
  const std::vector<std::string> labels = position_labels(vocab, tokens);
  const double cell = T <= 8 ? 30.0 : 240.0 / static_cast<double>(T);
  std::vector<svg::Heatmap> maps;
  for (std::size_t h = 0; h < H; ++h) {
    svg::Heatmap m{.title = fmt::format("head {}", h),
                   .row_labels = labels,
                   .column_labels = labels,
                   .row_axis = "query (position · token)",
                   .column_axis = "key (position · token)",
                   .scale_max = 1.0,
                   .grey_exact_zeros = true,
                   .zero_label = "",
                   .decimals = T <= 8 ? 2 : -1,
                   .cell = cell};
    const float* head = entry.values.data() + h * T * T;  // (T, T), row-major: [query][key]
    m.values.assign(head, head + T * T);
    maps.push_back(std::move(m));
  }
  const svg::Size map = svg::measure(maps.front());
  constexpr std::size_t kPerRow = 2;
  constexpr double kMargin = 14, kGap = 16, kTop = 64, kScale = 80;
  const std::size_t grid_rows = (H + kPerRow - 1) / kPerRow;
  const double width = kMargin + kPerRow * map.width + (kPerRow - 1) * kGap + kScale;
  const double height = kTop + static_cast<double>(grid_rows) * (map.height + kGap) + 26;
  svg::Document doc(width, height,
                    fmt::format("Lab 01 · attention weights of block_{}, every head", block),
                    "Drawn by lab01-assemble-mini-gpt --svg from a TraceRecorder on the model's forward "
                    "(seed and text as in its output). Regenerate with scripts/regen-diagrams.sh.");
  doc.heading(fmt::format("Attention weights of block_{}, {} heads", block, H),
              fmt::format("softmax(q·kᵀ/√{} + mask) on \"{}\"; each row sums to 1", c.d_head(), vocab.decode(tokens)));
  for (std::size_t h = 0; h < H; ++h) {
    const double x = kMargin + static_cast<double>(h % kPerRow) * (map.width + kGap);
    const double y = kTop + static_cast<double>(h / kPerRow) * (map.height + kGap);
    svg::draw(doc, x, y, maps[h]);
  }
  const double scale_x = kMargin + kPerRow * map.width + (kPerRow - 1) * kGap + 14;
  const double scale_y = kTop + map.height - cell * static_cast<double>(T) + 8;
  svg::colour_scale(doc, scale_x, scale_y, cell * static_cast<double>(T) - 16, 1.0, "weight", 1);
  svg::swatch(doc, kMargin + 40, height - 12, svg::colour::light_grey,
              "masked: key after query, weight exactly 0");
  return doc;
}

// What an operation does, from its trace name (CONVENTIONS.md §8): the colour of its tensor in the shape trace.
struct OpKind {
  std::string_view colour, label;
};
OpKind op_kind(std::string_view name) {
  namespace colour = lab::svg::colour;
  const auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (name == "embed" || name == "logits") return {colour::blue, "embedding E, tied head"};
  if (ends("ln1") || ends("ln2") || name == "ln_final") return {colour::sand, "LayerNorm"};
  if (ends("_rope")) return {colour::teal, "RoPE"};
  if (ends(".scores") || ends(".masked") || ends(".weights") || ends(".heads")) {
    return {colour::red, "attention: mixes positions"};
  }
  if (ends("gelu")) return {colour::orange, "GELU"};
  if (ends("resid1") || ends("resid2")) return {colour::green, "residual add"};
  return {colour::purple, "linear map x·W (+ b)"};
}

// diagrams/shape-trace.svg: the 37 operations of one forward, top to bottom, each with its
// output tensor drawn to scale (rows × last dimension; (H, T, T) as H squares), so the FFN's
// 4x widening and the heads' T × T scores are seen rather than read.
lab::svg::Document shape_trace_svg(const MiniGPTConfig& c, const Vocabulary& vocab, const std::vector<TokenId>& tokens,
                                   const minimodel::TraceRecorder& recorder) {
  namespace svg = lab::svg;
  const auto& entries = recorder.entries();
  constexpr double kUnit = 1.25;                // px per tensor element along each axis
  constexpr double kNameX = 44, kPictureX = 250, kTop = 104;
  const std::size_t T = tokens.size();
  const double row_h = std::max(30.0, static_cast<double>(T) * kUnit + 14.0);
  const double width = 760, height = kTop + static_cast<double>(entries.size()) * row_h + 20;
  svg::Document doc(width, height, "Lab 01 · shape trace of the whole forward",
                    "Drawn by lab01-assemble-mini-gpt --svg from a TraceRecorder on the model's forward. "
                    "Regenerate with scripts/regen-diagrams.sh.");
  doc.heading(fmt::format("Shape trace: the {} operations of one forward", entries.size()),
              fmt::format("\"{}\", T = {}; each output drawn to scale, {} px per element; W is (d_in, d_out)",
                          vocab.decode(tokens), T, svg::num(kUnit, 2)));
  // The legend, one entry per kind, in the order they first appear.
  std::vector<OpKind> kinds;
  for (const auto& e : entries) {
    const OpKind k = op_kind(e.event.name);
    if (std::none_of(kinds.begin(), kinds.end(), [&](const OpKind& seen) { return seen.label == k.label; })) {
      kinds.push_back(k);
    }
  }
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    svg::swatch(doc, 30 + static_cast<double>(i % 4) * 185, 70 + static_cast<double>(i / 4) * 18, kinds[i].colour,
                kinds[i].label, 11);
  }

  std::string current_block;
  double block_top = 0;
  const auto close_block = [&](double bottom) {
    if (current_block.empty()) return;
    doc.line(12, block_top + 4, 12, bottom - 4, svg::colour::grey, 1.5);
    doc.text(8, (block_top + bottom) / 2, current_block,
             {.size = 11, .anchor = "middle", .bold = true, .fill = svg::colour::grey, .rotate = -90});
  };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const minimodel::TraceEvent& e = entries[i].event;
    const double top = kTop + static_cast<double>(i) * row_h, mid = top + row_h / 2;
    const std::string block = e.name.rfind("block_", 0) == 0 ? e.name.substr(0, e.name.find('.')) : "";
    if (block != current_block) {
      close_block(top);
      current_block = block;
      block_top = top;
    }
    if (i % 2 == 1) doc.rect(20, top, width - 24, row_h, {.fill = "#f5f5f5"});
    doc.text(kNameX - 8, mid - 2, fmt::format("{}", i + 1), {.size = 10, .anchor = "end", .fill = svg::colour::grey});
    doc.text(kNameX, mid - 2, e.name, {.size = 11, .bold = true, .mono = true});
    doc.text(kNameX, mid + 10, fmt::format("{} → {}", lab::format_inputs(e), minimodel::format_shape(e.output)),
             {.size = 9, .mono = true, .fill = svg::colour::grey});

    // The output tensor: (n,) a thin column; (r, k) a rectangle; (a, r, k) a squares in a row.
    const OpKind kind = op_kind(e.name);
    const minimodel::Shape& s = e.output;
    double x = kPictureX;
    const auto tensor = [&](double w, double h) {
      doc.rect(x, mid - h / 2, w, h, {.fill = kind.colour, .fill_opacity = 0.85});
      x += w;
    };
    if (s.size() == 1) {
      tensor(4, static_cast<double>(s[0]) * kUnit);
    } else if (s.size() == 2) {
      const double w = static_cast<double>(s[1]) * kUnit, h = static_cast<double>(s[0]) * kUnit;
      const double left = x;
      tensor(w, h);
      // q, k, v and the heads hold the H heads as column blocks of width d_head: show the seams.
      const bool by_heads = e.name.find(".attn.") != std::string::npos && s[1] == c.d_model() &&
                            e.name.find(".out") == std::string::npos;
      for (std::size_t hh = 1; by_heads && hh < c.n_heads(); ++hh) {
        const double seam = left + static_cast<double>(hh * c.d_head()) * kUnit;
        doc.line(seam, mid - h / 2, seam, mid + h / 2, "#ffffff", 1.2);
      }
    } else if (s.size() == 3) {
      for (std::size_t a = 0; a < s[0]; ++a) {
        tensor(static_cast<double>(s[2]) * kUnit, static_cast<double>(s[1]) * kUnit);
        x += 3;
      }
    }
    doc.text(x + 8, mid + 4, e.formula, {.size = 10, .fill = svg::colour::grey});
  }
  close_block(kTop + static_cast<double>(entries.size()) * row_h);
  return doc;
}

int run_lab(const LabOptions& options) {
  // Everything that can fail on the user's input fails here, before any output.
  MiniGPT model(MiniGPTConfig(), options.common.seed);
  const Vocabulary& vocab = Vocabulary::builtin();
  const std::vector<TokenId> tokens = vocab.encode(options.text);  // InputError names a bad word
  model.validate_tokens(tokens);  // InputError when longer than the context
  if (!options.load_weights.empty()) minimodel::load_safetensors_into(model, options.load_weights);
  const std::filesystem::path svg_directory =
      options.svg_dir.empty() ? std::filesystem::path{} : lab::svg::checked_directory(options.svg_dir);

  const std::size_t T = tokens.size();
  const ReferenceTolerance tol = minimodel::forward_tolerance(model.config());

  // Every operation with its values: the shape trace compares each with the reference, and the
  // diagrams draw the attention weights from it. A non-finite value is not an error here: the
  // logits section counts it and the shape trace names the operation where it first appeared.
  minimodel::TraceRecorder recorder(true);
  Matrix logits;
  // In the starter build the forward may stop at a piece not implemented yet: the sections
  // that read the logits then report it, and the rest of the lab still runs.
  const std::optional<minimodel::NotImplemented> missing = lab::attempt(
      [&] { logits = model.forward(tokens, {.tracer = &recorder, .check_finite = false}); });
  const ref::Result reference =
      ref::forward(model.config(), model.parameters(), tokens, {.keep_steps = true});
  // Saved once everything above has passed, so a run that fails leaves no weights file behind.
  if (!options.save_weights.empty()) minimodel::save_safetensors(model, options.save_weights);

  lab::Report report(kLab, options.common);
  print_configuration(report, model, options);
  print_tokens(report, vocab, tokens, model.config());
  if (missing) {
    // Every section from here on needs the forward: each says what is missing and fails the
    // checks it would have printed.
    const std::vector<std::pair<std::string, std::vector<std::string>>> sections = {
        {"Shape trace", {kTraceCheck, kValuesCheck}},
        {"Logits", {kFiniteCheck}},
        {"Model vs reference", {kReferenceCheck}},
        {"Every input reaches the last output", {kFlowCheck}},
        {"Next-token guesses", {kOrderCheck}},
    };
    for (const auto& [title, checks] : sections) {
      report.section(title);
      report.not_implemented(*missing, checks);
    }
    return report.finish();
  }
  print_shape_trace(report, model, recorder, reference, tol, T);
  print_logits(report, logits, model.config(), T);
  print_reference(report, model, vocab, logits, reference, tol);
  report.guard({kFlowCheck}, [&] { print_information_flow(report, model, vocab, tokens, logits, tol); });
  print_next_token(report, vocab, tokens, logits, tol);

  if (!options.svg_dir.empty()) {
    // The attention weights are the (H, T, T) values of the events "block_i.attn.weights".
    for (std::size_t b = 0; b < model.config().n_layers(); ++b) {
      lab::svg::write(svg_directory, fmt::format("attention-block_{}.svg", b),
                      attention_svg(model.config(), vocab, tokens, recorder, b));
    }
    lab::svg::write(svg_directory, "shape-trace.svg", shape_trace_svg(model.config(), vocab, tokens, recorder));
  }
  return report.finish();
}

}  // namespace

int main(int argc, char** argv) {
  LabOptions options;
  lab::LabCommandLine app(kLab, options.common);
  app.option("--text", options.text,
             "the sequence to run: words of the vocabulary separated by spaces, at most "
             "context_len (32) of them")
      .show_default();
  app.option("--save-weights", options.save_weights, "write the weights used to this safetensors file");
  app.option("--load-weights", options.load_weights,
             "read the weights from this safetensors file instead of the seeded initialisation");
  lab::svg::add_option(app, options.svg_dir);
  return lab::run(app, argc, argv, [&] { return run_lab(options); });
}
