#pragma once
// ActivationRecord: what a forward keeps for a backward, one typed field per activation, filled
// only when the forward is asked to (ForwardOptions::activations), as llm.c's activation struct.
//
// Who fills what (never inside a student's piece, always after the operation has run):
//   CausalSelfAttention::forward  attn.input (= LN1's output), q_rope, k_rope, v, weights, heads
//   FeedForward::forward          ffn.input (= LN2's output), pre, gelu
//   TransformerBlock::forward     input, ln1_stats, resid1, ln2_stats, resid2 (the statistics
//                                 are copied from the buffers the norms' forwards wrote)
//   MiniGPT::forward              ln_final_stats, ln_final
// A forward without a record keeps nothing and pays nothing for it: each module tests one
// pointer. A record can be reused: the next forward overwrites it, and once it has seen a
// length, keeping allocates nothing more.
//
// What is not kept: the scores and the masked scores (the softmax backward needs only the
// weights), q and k before RoPE (their gradient is rotated back, which needs no values), and
// any output that only feeds a linear map.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "minimodel/layer_norm.hpp"  // NormStatistics
#include "minimodel/tensor.hpp"

namespace minimodel {

struct AttentionActivations {
  Matrix input;    // (T, d_model): what the attention read, LN1's output
  Matrix q_rope;   // (T, d_model): q after RoPE, what the scores used
  Matrix k_rope;   // (T, d_model)
  Matrix v;        // (T, d_model)
  Matrix weights;  // (H·T, T): the softmax weights, head h in rows [h·T, (h+1)·T)
  Matrix heads;    // (T, d_model): concat_h(weights_h·v_h), what W_o read
};

struct FfnActivations {
  Matrix input;  // (T, d_model): what the FFN read, LN2's output
  Matrix pre;    // (T, d_ff): x·W_1 + b_1
  Matrix gelu;   // (T, d_ff): GELU(pre), what W_2 read
};

struct BlockActivations {
  Matrix input;              // (T, d_model): the block's input x, LN1's input
  NormStatistics ln1_stats;  // LN1's, as its forward wrote them
  AttentionActivations attn;
  Matrix resid1;             // (T, d_model): z = x + MHA(LN1(x)), LN2's input
  NormStatistics ln2_stats;  // LN2's, of resid1
  FfnActivations ffn;
  Matrix resid2;             // (T, d_model): y = z + FFN(LN2(z)), the block's output
};

struct ActivationRecord {
  std::vector<BlockActivations> blocks;  // block i writes blocks[i] (the vector grows to hold it)
  NormStatistics ln_final_stats;         // ln_final's, of the last block's resid2
  Matrix ln_final;                       // (T, d_model): what the tied head read

  // Block i's record, the vector grown to hold it.
  BlockActivations& block(std::size_t i);
};

// The matrices of a block's record with the trace's names for them (block_i.<name>), in forward
// order: the one place those names are written.
template <class Visit>
void for_each_activation(const BlockActivations& a, Visit&& visit) {
  visit("input", a.input);
  visit("attn.input", a.attn.input);  // = ln1
  visit("attn.q_rope", a.attn.q_rope);
  visit("attn.k_rope", a.attn.k_rope);
  visit("attn.v", a.attn.v);
  visit("attn.weights", a.attn.weights);
  visit("attn.heads", a.attn.heads);
  visit("resid1", a.resid1);
  visit("ffn.input", a.ffn.input);  // = ln2
  visit("ffn.pre", a.ffn.pre);
  visit("ffn.gelu", a.ffn.gelu);
  visit("resid2", a.resid2);
}

// "<block>.<name>" of the first matrix of `a` that the forward left empty (a block that skipped
// an operation kept nothing for it), or "" when none is.
std::string first_missing(const BlockActivations& a, std::string_view block);

}  // namespace minimodel
