#include "lab00_toy.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <sstream>

#include "minimodel/errors.hpp"

namespace lab::toy {

minimodel::MiniGPTConfig toy_config() {
  return minimodel::MiniGPTConfig(minimodel::ConfigValues{
      .d_model = 4, .n_heads = 2, .n_layers = 1, .d_ff = 16, .vocab_size = 64, .context_len = 32});
}

const std::vector<float> kInput = {1.0f, -1.0f, 1.0f, -1.0f,  //
                                   2.0f, 2.0f, 0.0f, 0.0f};

const std::vector<float> kCopyOffsets = {-1.0f, -0.5f, 0.0f, 1.0f};

std::vector<HandSetParameter> toy_parameters() {
  const std::size_t d = 4, f = 16;
  std::vector<float> identity(d * d, 0.0f);
  for (std::size_t i = 0; i < d; ++i) identity[i * d + i] = 1.0f;

  // W_1 (4, 16): hidden column j copies input dimension j mod 4 (four copies of the row).
  // W_2 (16, 4): output dimension i averages its four copies, 0.25 each.
  std::vector<float> W_1(d * f, 0.0f), b_1(f, 0.0f), W_2(f * d, 0.0f);
  for (std::size_t j = 0; j < f; ++j) {
    W_1[(j % d) * f + j] = 1.0f;
    W_2[j * d + j % d] = 0.25f;
    b_1[j] = kCopyOffsets[j / d];
  }
  return {
      {"block_0.ln1.gamma", {1.0f, 1.0f, 1.0f, 1.0f}},
      {"block_0.ln1.beta", {0.0f, 0.0f, 0.0f, 0.0f}},
      {"block_0.attn.W_q", identity},
      {"block_0.attn.W_k", identity},
      // Lower triangular, so a transposed W_v gives different numbers: v = [x0 + x1/2, x1,
      // x2 + x3/2, x3].
      {"block_0.attn.W_v", {1.0f, 0.0f, 0.0f, 0.0f,  //
                            0.5f, 1.0f, 0.0f, 0.0f,  //
                            0.0f, 0.0f, 1.0f, 0.0f,  //
                            0.0f, 0.0f, 0.5f, 1.0f}},
      // Moves the heads across: head 1 (columns 2, 3) lands in 0, 1; half of head 0 in 2, 3.
      {"block_0.attn.W_o", {0.0f, 0.0f, 0.5f, 0.0f,  //
                            0.0f, 0.0f, 0.0f, 0.5f,  //
                            1.0f, 0.0f, 0.0f, 0.0f,  //
                            0.0f, 1.0f, 0.0f, 0.0f}},
      {"block_0.ln2.gamma", {1.0f, 1.0f, 1.0f, 1.0f}},
      {"block_0.ln2.beta", {0.0f, 0.0f, 0.0f, 0.0f}},
      {"block_0.ffn.W_1", W_1},
      {"block_0.ffn.b_1", b_1},
      {"block_0.ffn.W_2", W_2},
      {"block_0.ffn.b_2", {0.25f, 0.0f, 0.0f, -0.25f}},
  };
}

void set_parameter(minimodel::MiniGPT& model, const HandSetParameter& p) {
  minimodel::Parameter& parameter = model.parameters().at(p.name);
  if (parameter.numel() != p.values.size()) {
    throw minimodel::Error(fmt::format("lab00: {} holds {} values, the toy gives {}", p.name,
                                       parameter.numel(), p.values.size()));
  }
  std::copy(p.values.begin(), p.values.end(), parameter.data());
}

namespace {

// Parses lab00_chapter_values.tsv: "name<TAB>v v v ..." a line, '#' starts a comment line.
std::vector<ChapterStep> parse_chapter_values(std::string_view tsv) {
  std::vector<ChapterStep> steps;
  std::istringstream lines{std::string(tsv)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() == '#') continue;
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      throw minimodel::Error(fmt::format("lab00: a line of the chapter's values has no tab: '{}'", line));
    }
    ChapterStep step{line.substr(0, tab), {}};
    std::istringstream numbers(line.substr(tab + 1));
    std::string number;
    while (numbers >> number) {
      char* end = nullptr;
      const double value = std::strtod(number.c_str(), &end);  // reads "-inf" too
      if (end != number.c_str() + number.size()) {
        throw minimodel::Error(fmt::format("lab00: '{}' in the chapter's values of {} is not a number", number,
                                           step.name));
      }
      step.values.push_back(value);
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace

const ChapterStep& chapter_step(const std::string& name) {
  static const std::vector<ChapterStep> steps = parse_chapter_values(chapter_values_tsv());
  for (const ChapterStep& s : steps) {
    if (s.name == name) return s;
  }
  throw minimodel::Error(fmt::format("lab00: the chapter derives no step named '{}'", name));
}

}  // namespace lab::toy
