#pragma once
// The trace: every operation of a forward, reported to a Tracer if one is listening.
//
// Who reports. The modules report, not the pieces a student writes: a module's forward runs its
// maths, then records the buffer that maths produced with trace_op(). The forward that was
// given a tracer (ForwardOptions::tracer) makes it the active one for its duration with a
// TraceScope, so the code in between (the block's and the model's data flow) carries no
// tracing code at all. With no tracer active the cost of trace_op() is one thread-local read.
//
// What is reported. An event's values are the buffer the next operation reads, at the moment
// the operation finished: never a second computation made for display. Shapes come from the
// operands (Operand below), not from numbers typed beside them.
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "minimodel/tensor.hpp"

namespace minimodel {

struct Parameter;

struct TraceEvent {
  std::string name;           // dotted names (CONVENTIONS.md §8): "block_0.attn.scores"
  std::vector<Shape> inputs;  // operand shapes, in formula order
  std::string combine;        // how the inputs meet, for printing: "·", "+", "→"
  Shape output;
  std::string formula;        // "q·kᵀ/√16"
  // The output values, row-major in `output`'s shape; only filled when the tracer asked for
  // values, and only valid during the call to record().
  std::span<const float> values;
};

class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual bool wants_values() const { return false; }
  virtual void record(const TraceEvent& event) = 0;
};

// Keeps every event, with a copy of its values when constructed with keep_values = true.
class TraceRecorder : public Tracer {
 public:
  struct Entry {
    TraceEvent event;           // event.values is left empty: the copy lives in `values`
    std::vector<float> values;  // empty unless keep_values
  };

  explicit TraceRecorder(bool keep_values = false) : keep_values_(keep_values) {}
  bool wants_values() const override { return keep_values_; }
  void record(const TraceEvent& event) override;

  const std::vector<Entry>& entries() const { return entries_; }
  // The entry with this name; throws Error when there is none.
  const Entry& at(const std::string& name) const;
  // The entry with this name, or nullptr.
  const Entry* find(std::string_view name) const;

 private:
  bool keep_values_;
  std::vector<Entry> entries_;
};

// The tracer operations report to on this thread, or nullptr.
Tracer* active_tracer();

// Makes `tracer` the active one until the scope ends, then restores the one before. A null
// tracer changes nothing, so a forward called without one inside a traced forward (a block
// inside the model) keeps reporting to the outer tracer.
class TraceScope {
 public:
  explicit TraceScope(Tracer* tracer);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  Tracer* previous_;
  bool installed_;
};

// Silences the active tracer while it lives: for work a forward does only to fill its
// activation record, which is not an operation of the model and must not be reported twice.
class TracePause {
 public:
  TracePause();
  ~TracePause();
  TracePause(const TracePause&) = delete;
  TracePause& operator=(const TracePause&) = delete;

 private:
  Tracer* previous_;
};

// One operand of a traced operation; only its shape is read, and only when a tracer listens.
class Operand {
 public:
  Operand(const Matrix& m) : matrix_(&m) {}      // NOLINT: implicit on purpose, {x, W} reads well
  Operand(const Parameter& p) : parameter_(&p) {}  // NOLINT
  // (n,) for a list of n tokens.
  static Operand vector(std::size_t n) {
    Operand o;
    o.length_ = n;
    return o;
  }
  // Wᵀ: the operand's two axes swapped.
  static Operand transposed(const Parameter& p);
  // A (T, H·d_head) matrix read as H heads: (H, T, d_head), or (H, d_head, T) transposed.
  static Operand heads(const Matrix& m, std::size_t n_heads, bool transposed = false);
  // A shape that no buffer of the operation holds whole (the (H, T, T) weights of a head loop).
  explicit Operand(Shape shape) : shape_(std::move(shape)) {}

  Shape shape() const;

 private:
  Operand() = default;
  const Matrix* matrix_ = nullptr;
  std::size_t length_ = 0;  // > 0: a vector of this length
  const Parameter* parameter_ = nullptr;
  Shape shape_;
  std::size_t heads_ = 0;
  bool transposed_ = false;
};

namespace detail {
void record_op(Tracer& tracer, std::string_view scope, std::string_view op,
               std::initializer_list<Operand> inputs, std::string_view combine, Shape output,
               std::span<const float> values, std::string_view formula);
}  // namespace detail

// Reports one operation to the active tracer, if any: "<scope>.<op>" (or "<scope>" when op is
// empty), its operands, how they combine, its output buffer and formula. One line per operation.
inline void trace_op(std::string_view scope, std::string_view op, std::initializer_list<Operand> inputs,
                     std::string_view combine, const Matrix& output, std::string_view formula) {
  if (Tracer* tracer = active_tracer()) {
    detail::record_op(*tracer, scope, op, inputs, combine, Shape(output.shape().begin(), output.shape().end()),
                      {output.data(), output.size()}, formula);
  }
}
// The same for an output held as a flat buffer of the given shape.
inline void trace_op(std::string_view scope, std::string_view op, std::initializer_list<Operand> inputs,
                     std::string_view combine, std::span<const float> output, const Shape& shape,
                     std::string_view formula) {
  if (Tracer* tracer = active_tracer()) detail::record_op(*tracer, scope, op, inputs, combine, shape, output, formula);
}

// Whether the active tracer, if any, wants values (the attention then keeps its (H, T, T)
// blocks of scores, masked scores and weights for it).
inline bool tracer_wants_values() {
  const Tracer* tracer = active_tracer();
  return tracer != nullptr && tracer->wants_values();
}

}  // namespace minimodel
