#pragma once
// MiniGPT: the smallest object that is recognisably a language model.
//
//   tokens (T,) -> embed -> block_0 -> ... -> block_{L-1} -> ln_final -> logits = h·Eᵀ (T, V)
//
// No softmax inside: the forward returns logits. Not trained here; training, sampling and the
// KV cache are later chapters (ForwardOptions::position_offset is kept for the cache).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "minimodel/activations.hpp"
#include "minimodel/block.hpp"
#include "minimodel/config.hpp"
#include "minimodel/embedding.hpp"
#include "minimodel/forward_options.hpp"
#include "minimodel/layer_norm.hpp"
#include "minimodel/registry.hpp"
#include "minimodel/rope.hpp"
#include "minimodel/vocab.hpp"

namespace minimodel {

// Every buffer a forward needs. Keep one and pass it to MiniGPT::forward to run forwards
// without allocating: after the first call of a given length, none of them grows.
struct ForwardWorkspace {
  Matrix h, next;                  // the residual stream, (T, d_model), and the next one
  Matrix logits;                   // (T, vocab_size)
  NormStatistics ln_final_stats;   // what ln_final wrote on the way: mean and 1/std, (T,) each
  TransformerBlock::Buffers block; // shared by the blocks, which run one after another
};

class MiniGPT {
 public:
  static constexpr std::uint64_t kDefaultSeed = 42;

  // Builds every module (registering its parameters in data-flow order), then initialises
  // all parameters from `seed`.
  explicit MiniGPT(const MiniGPTConfig& config = MiniGPTConfig(), std::uint64_t seed = kDefaultSeed);

  // Movable (modules refer to heap storage that moves with the model); not copyable, because
  // a copy would silently duplicate the storage that the head shares with the embedding.
  MiniGPT(MiniGPT&&) = default;
  MiniGPT& operator=(MiniGPT&&) = delete;
  MiniGPT(const MiniGPT&) = delete;
  MiniGPT& operator=(const MiniGPT&) = delete;

  // (T,) token ids -> (T, vocab_size) logits. Validates the input first (InputError); a
  // non-finite logit is a NumericalError naming the operation where it first appeared.
  // Returns workspace.logits; allocates nothing once the workspace has seen this length.
  const Matrix& forward(std::span<const TokenId> tokens, ForwardWorkspace& workspace,
                        const ForwardOptions& options = {}) const;
  // The same with a workspace of its own: simpler, and allocates on every call.
  Matrix forward(std::span<const TokenId> tokens, const ForwardOptions& options = {}) const;

  // Throws InputError unless 1 <= T <= context_len - position_offset and 0 <= id < vocab_size.
  void validate_tokens(std::span<const TokenId> tokens, std::size_t position_offset = 0) const;

  const MiniGPTConfig& config() const { return config_; }
  ParameterRegistry& parameters() { return *registry_; }
  const ParameterRegistry& parameters() const { return *registry_; }

  const Embedding& embedding() const { return *embedding_; }
  const TransformerBlock& block(std::size_t i) const { return blocks_.at(i); }
  const LayerNorm& ln_final() const { return *ln_final_; }
  const TiedLMHead& lm_head() const { return *lm_head_; }

  // Sum of the element counts of the registered tensors (the number the closed form of CONVENTIONS.md §9
  // must match).
  std::size_t parameter_count() const { return registry_->total_count(); }
  // The same for a model of `config`, without building it: its modules registered on
  // registries that allocate nothing, their shapes summed in checked arithmetic (std::nullopt
  // when the count does not fit 64 bits). What the weights loader bounds a file's config with.
  static std::optional<std::uint64_t> checked_parameter_count(const MiniGPTConfig& config);

  // Every tensor the forward reads, module by module, the head's weight included.
  std::vector<const Parameter*> tensors_read_by_forward() const;
  // Elements of distinct storage among those tensors: equal to parameter_count() exactly when
  // nothing is duplicated (an untied or copied head would add V·d).
  std::size_t unique_storage_count() const;

 private:
  // Fills the record's ln_final_stats and ln_final (the blocks filled theirs).
  void keep_final_activations(ActivationRecord& record, ForwardWorkspace& ws) const;
  // Re-runs a forward whose logits were not finite under a FiniteGuard; always throws.
  [[noreturn]] void locate_non_finite(std::span<const TokenId> tokens, const ForwardOptions& options) const;

  MiniGPTConfig config_;
  // Heap-held so that the references modules keep stay valid when the model moves.
  std::unique_ptr<ParameterRegistry> registry_;
  std::unique_ptr<RotaryTable> rope_;
  std::unique_ptr<Embedding> embedding_;
  std::vector<TransformerBlock> blocks_;
  std::unique_ptr<LayerNorm> ln_final_;
  std::unique_ptr<TiedLMHead> lm_head_;
};

}  // namespace minimodel
