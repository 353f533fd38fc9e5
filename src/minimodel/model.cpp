#include "minimodel/model.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <set>

#include "minimodel/errors.hpp"
#include "minimodel/finite_guard.hpp"

namespace minimodel {

MiniGPT::MiniGPT(const MiniGPTConfig& config, std::uint64_t seed)
    : config_(config),
      registry_(std::make_unique<ParameterRegistry>()),
      rope_(std::make_unique<RotaryTable>(config.d_head(), config.context_len(), config.rope_base())) {
  // Construction order is registration order is the order of CONVENTIONS.md §9: E, blocks, ln_final.
  embedding_ = std::make_unique<Embedding>(*registry_, config_);
  blocks_.reserve(config_.n_layers());
  for (std::size_t i = 0; i < config_.n_layers(); ++i) {
    blocks_.emplace_back(*registry_, i, config_, *rope_);
  }
  ln_final_ = std::make_unique<LayerNorm>(*registry_, "ln_final", config_.d_model(), config_.ln_eps(),
                                          config_.norm());
  lm_head_ = std::make_unique<TiedLMHead>(*embedding_);  // shares E's storage; registers nothing
  registry_->initialize(seed);
}

std::optional<std::uint64_t> MiniGPT::checked_parameter_count(const MiniGPTConfig& config) {
  // The modules the constructor builds, on registries that allocate nothing. Every block has
  // the same shapes, so one block is built and counted L times: a config with millions of
  // layers is refused without building millions of blocks. The attention only refers to its
  // RoPE table and registers nothing from it, so a table of one pair at one position stands in.
  using Registry = ParameterRegistry;
  Registry embedding{Registry::ShapesOnly{}}, block{Registry::ShapesOnly{}}, final_norm{Registry::ShapesOnly{}};
  const RotaryTable rope(2, 1, config.rope_base());
  const Embedding e(embedding, config);
  const TransformerBlock b(block, 0, config, rope);
  const LayerNorm ln(final_norm, "ln_final", config.d_model(), config.ln_eps(), config.norm());
  const std::optional<std::uint64_t> E = embedding.checked_count(), B = block.checked_count(),
                                     F = final_norm.checked_count();
  std::uint64_t blocks = 0, total = 0;
  if (!E || !B || !F || __builtin_mul_overflow(*B, std::uint64_t{config.n_layers()}, &blocks) ||
      __builtin_add_overflow(*E, blocks, &total) || __builtin_add_overflow(total, *F, &total)) {
    return std::nullopt;
  }
  return total;
}

void MiniGPT::validate_tokens(std::span<const TokenId> tokens, std::size_t position_offset) const {
  const std::size_t T = tokens.size(), context = config_.context_len();
  if (T == 0) {
    throw InputError("empty sequence: a forward needs at least one token (T >= 1)");
  }
  if (position_offset >= context || T > context - position_offset) {
    throw InputError(fmt::format(
        "sequence too long: T = {} tokens starting at position {} does not fit the context; "
        "rule: position_offset + T <= context_len = {} (shorten the text)",
        T, position_offset, context));
  }
  for (std::size_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || static_cast<std::size_t>(tokens[t]) >= config_.vocab_size()) {
      throw InputError(fmt::format(
          "token id {} at position {} is out of range; rule: 0 <= id < vocab_size = {}",
          tokens[t], t, config_.vocab_size()));
    }
  }
}

const Matrix& MiniGPT::forward(std::span<const TokenId> tokens, ForwardWorkspace& ws,
                              const ForwardOptions& options) const {
  validate_tokens(tokens, options.position_offset);
  const TraceScope tracing(options.tracer);  // every module reports to it (trace.hpp)
  // STARTER-BEGIN 10 · Mini-GPT forward | labs/01-assemble-mini-gpt/README.md § What this lab builds
  // | computes: embed the tokens, run the blocks in order, then LN_final and the tied head
  // | shapes:   tokens (T,) -> ws.h (T, d) -> the blocks -> LN_final -> ws.logits (T, V);
  // |           ws.next is a second (T, d) buffer, ws.block the blocks' shared buffers,
  // |           ws.ln_final_stats for LN_final's statistics
  // | NumPy:    h = E[tokens]; for block in blocks: h = block(h); logits = ln_f(h) @ E.T
  // | unlocks:  with pieces 1 to 9, labs 01 and 03
  embedding_->forward(tokens, ws.h);               // (T,) -> (T, d)
  for (const TransformerBlock& block : blocks_) {  // (T, d) -> (T, d), L times
    block.forward(ws.h, ws.next, ws.block, options);
    std::swap(ws.h, ws.next);                      // swaps buffers, copies nothing
  }
  ln_final_->forward(ws.h, ws.next, ws.ln_final_stats);  // (T, d) -> (T, d)
  lm_head_->forward(ws.next, ws.logits);           // (T, d) -> (T, V)
  // STARTER-END
  if (options.activations != nullptr) keep_final_activations(*options.activations, ws);
  if (options.check_finite) {
    if (!all_finite(ws.logits.data(), ws.logits.size())) locate_non_finite(tokens, options);
  }
  return ws.logits;
}

void MiniGPT::keep_final_activations(ActivationRecord& record, ForwardWorkspace& ws) const {
  record.ln_final_stats = ws.ln_final_stats;  // as the forward's ln_final wrote them
  // ln_final's input is the last block's output, kept by that block. Its output is what the
  // tied head read: the forward's student code leaves no buffer that surely holds it, so
  // ln_final runs again on the kept input (the same function on the same values: the same
  // bits), silenced so that a tracer sees it once.
  const Matrix& last = record.blocks.at(blocks_.size() - 1).resid2;
  const TracePause silent;
  ln_final_->forward(last, record.ln_final, ws.ln_final_stats);
}

void MiniGPT::locate_non_finite(std::span<const TokenId> tokens, const ForwardOptions& options) const {
  // A NaN or an infinity spreads to every later operation, so the logits show it; the guard
  // finds where it started. Only this rare path pays for recording values.
  FiniteGuard guard;
  ForwardOptions guarded = options;
  guarded.tracer = &guard;
  guarded.check_finite = false;
  ForwardWorkspace scratch;
  forward(tokens, scratch, guarded);  // throws NumericalError at the first non-finite output
  throw NumericalError("the logits hold a non-finite value (no earlier operation did)");
}

Matrix MiniGPT::forward(std::span<const TokenId> tokens, const ForwardOptions& options) const {
  ForwardWorkspace workspace;
  forward(tokens, workspace, options);
  return std::move(workspace.logits);
}

std::vector<const Parameter*> MiniGPT::tensors_read_by_forward() const {
  std::vector<const Parameter*> tensors{&embedding_->E()};
  for (const TransformerBlock& b : blocks_) {
    tensors.insert(tensors.end(),
                   {&b.ln1().gamma(), b.ln1().beta(), &b.attn().W_q(), &b.attn().W_k(),
                    &b.attn().W_v(), &b.attn().W_o(), &b.ln2().gamma(), b.ln2().beta(),
                    &b.ffn().W_1(), b.ffn().b_1(), &b.ffn().W_2(), b.ffn().b_2()});
  }
  tensors.insert(tensors.end(), {&ln_final_->gamma(), ln_final_->beta(), &lm_head_->weight()});
  // Variants without beta or biases leave those slots empty.
  std::erase(tensors, nullptr);
  return tensors;
}

std::size_t MiniGPT::unique_storage_count() const {
  std::set<const float*> seen;
  std::size_t total = 0;
  for (const Parameter* p : tensors_read_by_forward()) {
    if (seen.insert(p->data()).second) total += p->numel();
  }
  return total;
}

}  // namespace minimodel
