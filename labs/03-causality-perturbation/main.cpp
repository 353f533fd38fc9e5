// Lab 03 · Causality by perturbation.
//
// Change one input token and watch which outputs move. With the causal mask, output i may
// depend only on inputs 0..i: changing input j must leave outputs 0..j−1 bit-identical.
// The influence matrix shows it for every j at once, and a negative control with the mask
// removed shows that the check would catch a leak.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "lab.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/vocab.hpp"
#include "svg.hpp"

namespace {

using minimodel::Matrix;
using minimodel::MiniGPT;
using minimodel::TokenId;

const lab::LabInfo kLab = {
    "03", "Causality by perturbation", "labs/03-causality-perturbation/README.md", "1 to 10",
    "change one input token and show which output positions move, with and without the causal mask."};

// CONVENTIONS.md §11: a changed token is (id + 7) mod vocab_size — never the same id, since 7 < 64.
TokenId perturbed(TokenId id, std::size_t vocab_size) {
  return static_cast<TokenId>((static_cast<std::size_t>(id) + 7) % vocab_size);
}

// max over the vocabulary of |a[t][v] − b[t][v]|, for each position t.
std::vector<double> max_abs_change_per_position(const Matrix& a, const Matrix& b) {
  std::vector<double> change(a.shape(0), 0.0);
  for (std::size_t t = 0; t < a.shape(0); ++t) {
    for (std::size_t v = 0; v < a.shape(1); ++v) {
      change[t] = std::max(change[t], std::abs(double(a(t, v)) - double(b(t, v))));
    }
  }
  return change;
}

bool rows_bit_identical(const Matrix& a, const Matrix& b, std::size_t t) {
  const std::size_t V = a.shape(1);
  return std::memcmp(a.data() + t * V, b.data() + t * V, V * sizeof(float)) == 0;
}

// An exact zero prints as "0" (compared exactly by labdiff); anything else with 6 decimals,
// so even a change of 1e-9 shows as "0.000000" and never as a zero.
std::string influence(double value) { return value == 0.0 ? "0" : lab::number(value); }

// M[i][j] = max_v |Δ logits[i][v]| when input j is perturbed: output i (row), input j (column).
std::vector<std::vector<double>> influence_matrix(const MiniGPT& model, const std::vector<TokenId>& tokens,
                                                  bool causal_mask) {
  const std::size_t T = tokens.size();
  const Matrix base = model.forward(tokens, {.causal_mask = causal_mask});
  std::vector<std::vector<double>> m(T, std::vector<double>(T, 0.0));
  for (std::size_t j = 0; j < T; ++j) {
    std::vector<TokenId> changed = tokens;
    changed[j] = perturbed(changed[j], model.config().vocab_size());
    const std::vector<double> change =
        max_abs_change_per_position(base, model.forward(changed, {.causal_mask = causal_mask}));
    for (std::size_t i = 0; i < T; ++i) m[i][j] = change[i];
  }
  return m;
}

void print_matrix(lab::Report& report, const std::vector<std::vector<double>>& m) {
  const std::size_t T = m.size();
  std::string header = fmt::format("{:>8}", "");
  for (std::size_t j = 0; j < T; ++j) header += fmt::format("{:>10}", fmt::format("in {}", j));
  report.print("{}", header);
  for (std::size_t i = 0; i < T; ++i) {
    std::string line = fmt::format("{:>8}", fmt::format("out {}", i));
    for (std::size_t j = 0; j < T; ++j) line += fmt::format("{:>10}", influence(m[i][j]));
    report.print("{}", line);
  }
}

// Entries above the diagonal (input j later than output i) that are not exactly zero.
std::size_t nonzero_above_diagonal(const std::vector<std::vector<double>>& m) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (std::size_t j = i + 1; j < m.size(); ++j) count += m[i][j] != 0.0;
  }
  return count;
}

// diagrams/causality-influence.svg: the two matrices side by side, on one colour scale.
// Exact zeros are grey: they are the lab's claim, exact on every machine.
lab::svg::Document influence_svg(const std::vector<TokenId>& tokens,
                                 const std::vector<std::vector<double>>& masked,
                                 const std::vector<std::vector<double>>& unmasked) {
  namespace svg = lab::svg;
  const std::size_t T = tokens.size();
  const minimodel::Vocabulary& vocab = minimodel::Vocabulary::builtin();
  double largest = 0.0;
  for (const auto* m : {&masked, &unmasked}) {
    for (const auto& row : *m) {
      for (const double v : row) largest = std::max(largest, v);
    }
  }
  svg::Heatmap left{.title = "causal mask on (the model)",
                    .row_axis = "output position i",
                    .column_axis = "changed input position j",
                    .scale_max = largest,
                    .grey_exact_zeros = true,
                    .cell = T <= 8 ? 28.0 : 224.0 / static_cast<double>(T)};
  left.decimals = T <= 8 ? 2 : -1;  // numbers only where they fit
  for (std::size_t t = 0; t < T; ++t) {
    const std::string label = fmt::format("{} · {}", t, vocab.word(tokens[t]));
    left.row_labels.push_back(label);
    left.column_labels.push_back(label);
  }
  svg::Heatmap right = left;
  right.title = "mask removed (negative control)";
  for (std::size_t i = 0; i < T; ++i) {
    for (std::size_t j = 0; j < T; ++j) {
      left.values.push_back(masked[i][j]);
      right.values.push_back(unmasked[i][j]);
    }
  }
  const svg::Size map = svg::measure(left);
  constexpr double kMargin = 16, kGap = 18, kTop = 62;
  const double width = kMargin + 2 * map.width + kGap + 90, height = kTop + map.height + 46;
  svg::Document doc(width, height, "Lab 03 · causality influence matrix, with and without the mask",
                    "Drawn by lab03-causality-perturbation --svg from the model's logits (seed and "
                    "tokens as in its output). Regenerate with scripts/regen-diagrams.sh.");
  doc.heading("Which inputs move which outputs",
              fmt::format("M[i][j] = max over the vocabulary of |Δ logit| at output i when input j "
                          "changes (id → (id + 7) mod 64)"));
  svg::draw(doc, kMargin, kTop, left);
  svg::draw(doc, kMargin + map.width + kGap, kTop, right);
  const double scale_y = kTop + (map.height - left.cell * static_cast<double>(T)) + 8;
  svg::colour_scale(doc, kMargin + 2 * map.width + kGap + 14, scale_y, left.cell * static_cast<double>(T) - 16,
                    largest, "max |Δ logit|", 2);
  svg::swatch(doc, kMargin + 40, kTop + map.height + 24, svg::colour::light_grey,
              "exactly 0, bit for bit: output i never sees a later input j > i");
  return doc;
}

}  // namespace

int main(int argc, char** argv) {
  lab::CommonOptions options;
  lab::LabCommandLine app(kLab, options);
  std::vector<TokenId> tokens(std::begin(minimodel::kCausalityTokens), std::end(minimodel::kCausalityTokens));
  std::size_t perturb_at = 5;
  std::string svg_dir;  // empty: no diagrams
  app.option("--tokens", tokens, "token ids, comma-separated (each < 64, at most 32 of them)")
      .delimiter(',')
      .show_default();
  app.option("--perturb-at", perturb_at, "position of the seed test's changed token").show_default();
  lab::svg::add_option(app, svg_dir);

  return lab::run(app, argc, argv, [&] {
    const MiniGPT model(minimodel::MiniGPTConfig(), options.seed);
    model.validate_tokens(tokens);  // ids in range, 1 <= T <= context: a clear error otherwise
    const std::filesystem::path svg_directory = svg_dir.empty() ? std::filesystem::path{} : lab::svg::checked_directory(svg_dir);
    const std::size_t T = tokens.size(), V = model.config().vocab_size();
    if (perturb_at >= T) {
      throw minimodel::InputError(fmt::format(
          "--perturb-at {} is outside the sequence: positions run from 0 to {} (T = {})", perturb_at,
          T - 1, T));
    }

    lab::Report report(kLab, options);
    report.print("model: the locked Mini-GPT ({}), {} parameters", model.config().describe(),
                 model.parameter_count());
    report.print("perturbation: token id -> (id + 7) mod {}", V);
    nlohmann::json& results = report.results();
    results["tokens"] = tokens;
    results["perturb_at"] = perturb_at;

    // 1. The seed test: one perturbation, every output position.
    report.section("Seed test");
    std::vector<TokenId> changed = tokens;
    changed[perturb_at] = perturbed(changed[perturb_at], V);
    report.print("input    : {}", fmt::join(tokens, " "));
    report.print("perturbed: {}   (position {}: {} -> {})", fmt::join(changed, " "), perturb_at,
                 tokens[perturb_at], changed[perturb_at]);
    // Every section runs the model's forward; in the starter build one of its pieces may not
    // be implemented yet, and each section then says so and fails the checks it would print.
    const std::string before_check = fmt::format("positions 0-{} are bit-identical (they cannot see position {})",
                                                 perturb_at == 0 ? 0 : perturb_at - 1, perturb_at);
    std::vector<std::string> seed_checks = {before_check};
    if (perturb_at == 0) seed_checks.clear();  // nothing before position 0: a fact, not a check
    const std::string
                      after_check = fmt::format("at least one of positions {}-{} changed", perturb_at, T - 1);
    seed_checks.push_back(after_check);
    report.guard(seed_checks, [&] {
      const Matrix base = model.forward(tokens), moved = model.forward(changed);
      const std::vector<double> change = max_abs_change_per_position(base, moved);
      report.print("");
      report.print("{:>8}  {:>14}  {}", "position", "max |Δlogit|", "logits row");
      bool before_identical = true, after_changed = false;
      for (std::size_t t = 0; t < T; ++t) {
        const bool identical = rows_bit_identical(base, moved, t);
        report.print("{:>8}  {:>14}  {}", t, influence(change[t]), identical ? "bit-identical" : "changed");
        if (t < perturb_at) before_identical = before_identical && identical;
        if (t >= perturb_at) after_changed = after_changed || !identical;
      }
      report.print("");
      if (perturb_at == 0) {
        report.fact("no position comes before position 0, so there is nothing that must stay unchanged");
      } else {
        report.check(before_check, before_identical, "",
                     "an earlier position changed: it read the perturbed token at a later position");
      }
      report.check(after_check, after_changed, "", "no position moved: the perturbed token was never read");
      results["seed_test"] = {{"perturbed_tokens", changed}, {"max_abs_change", change}};
    });

    // 2. Every perturbation position at once.
    report.section("Influence matrix");
    report.print("M[i][j] = max over the vocabulary of |Δ logits[i]| when input j changes.");
    report.print("Rows: output positions i; columns: the changed input position j. An exact zero prints as 0.");
    report.print("");
    const std::string above_check = "every entry above the diagonal is exactly 0 (no output sees a later input)",
                      diagonal_check = "every diagonal entry is non-zero (each output sees its own input)";
    std::vector<std::vector<double>> masked, unmasked;  // stay empty when the forward is missing
    report.guard({above_check, diagonal_check}, [&] {
      masked = influence_matrix(model, tokens, true);
      print_matrix(report, masked);
      report.print("");
      std::size_t zero_diagonal = 0;
      for (std::size_t i = 0; i < T; ++i) zero_diagonal += masked[i][i] == 0.0;
      const std::size_t leaks = nonzero_above_diagonal(masked);
      report.check(above_check, leaks == 0, "",
                   fmt::format("{} of {} entries above the diagonal are not 0: an output read a later input", leaks,
                               T * (T - 1) / 2));
      report.check(diagonal_check, zero_diagonal == 0, "",
                   fmt::format("{} of {} diagonal entries are 0: an output ignores its own input", zero_diagonal, T));
      results["influence_masked"] = masked;
    });

    // 3. The negative control: the same measurement with the mask removed must leak.
    report.section("Negative control: mask removed");
    report.print("The same matrix with ForwardOptions::causal_mask = false: the model now reads the future.");
    report.print("");
    const std::string leak_check =
        "the check above would catch a leak: entries above the diagonal are non-zero without the mask";
    report.guard({leak_check}, [&] {
      unmasked = influence_matrix(model, tokens, false);
      print_matrix(report, unmasked);
      report.print("");
      const std::size_t leaks = nonzero_above_diagonal(unmasked);
      report.check(leak_check, leaks > 0, fmt::format("{} of {} entries above the diagonal leak", leaks, T * (T - 1) / 2));
      results["influence_unmasked"] = unmasked;
    });

    if (!svg_dir.empty() && !masked.empty() && !unmasked.empty()) {
      lab::svg::write(svg_directory, "causality-influence.svg", influence_svg(tokens, masked, unmasked));
    }

    return report.finish();
  });
}
