#pragma once
// The trace hook: the forward reports every operation it performs to a Tracer, if one is
// listening. With no tracer the cost is one null-pointer test per operation; the event
// (and its strings) is only built when somebody listens.
#include <span>
#include <string>
#include <vector>

#include "minimodel/tensor.hpp"

namespace minimodel {

struct TraceEvent {
  std::string name;           // the SPEC's dotted names: "block_0.attn.scores"
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

 private:
  bool keep_values_;
  std::vector<Entry> entries_;
};

// Calls make_event() and records it only when a tracer is listening.
template <class MakeEvent>
inline void report(Tracer* tracer, MakeEvent&& make_event) {
  if (tracer != nullptr) tracer->record(make_event());
}

// The values of a buffer, if the tracer asked for them.
inline std::span<const float> values_for(const Tracer* tracer, const float* data,
                                         std::size_t count) {
  return tracer != nullptr && tracer->wants_values() ? std::span<const float>(data, count)
                                                     : std::span<const float>{};
}

}  // namespace minimodel
