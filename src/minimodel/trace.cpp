#include "minimodel/trace.hpp"

#include <fmt/format.h>

#include "minimodel/errors.hpp"
#include "minimodel/registry.hpp"

namespace minimodel {

namespace {
thread_local Tracer* t_active = nullptr;
}  // namespace

Tracer* active_tracer() { return t_active; }

TraceScope::TraceScope(Tracer* tracer) : previous_(t_active), installed_(tracer != nullptr) {
  if (installed_) t_active = tracer;
}

TraceScope::~TraceScope() {
  if (installed_) t_active = previous_;
}

TracePause::TracePause() : previous_(t_active) { t_active = nullptr; }
TracePause::~TracePause() { t_active = previous_; }

Operand Operand::transposed(const Parameter& p) {
  Operand o(p);
  o.transposed_ = true;
  return o;
}

Operand Operand::heads(const Matrix& m, std::size_t n_heads, bool transposed) {
  Operand o(m);
  o.heads_ = n_heads;
  o.transposed_ = transposed;
  return o;
}

Shape Operand::shape() const {
  Shape s = matrix_ != nullptr      ? Shape(matrix_->shape().begin(), matrix_->shape().end())
            : parameter_ != nullptr ? parameter_->shape()
            : length_ > 0           ? Shape{length_}
                                    : shape_;
  if (heads_ > 0 && s.size() == 2) {
    // (T, H·d_head) -> (H, T, d_head): head h is the column block h.
    s = {heads_, s[0], s[1] / heads_};
    if (transposed_) std::swap(s[1], s[2]);
  } else if (transposed_ && s.size() == 2) {
    std::swap(s[0], s[1]);
  }
  return s;
}

void TraceRecorder::record(const TraceEvent& event) {
  // event.values is only valid during this call: keep a copy, never the pointer.
  Entry entry{event, {}};
  if (keep_values_) entry.values.assign(event.values.begin(), event.values.end());
  entry.event.values = {};
  entries_.push_back(std::move(entry));
}

const TraceRecorder::Entry* TraceRecorder::find(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.event.name == name) return &e;
  }
  return nullptr;
}

const TraceRecorder::Entry& TraceRecorder::at(const std::string& name) const {
  if (const Entry* e = find(name)) return *e;
  throw Error(fmt::format("no trace event named '{}'", name));
}

namespace detail {

void record_op(Tracer& tracer, std::string_view scope, std::string_view op,
               std::initializer_list<Operand> inputs, std::string_view combine, Shape output,
               std::span<const float> values, std::string_view formula) {
  TraceEvent event;
  event.name = op.empty() ? std::string(scope) : fmt::format("{}.{}", scope, op);
  for (const Operand& operand : inputs) event.inputs.push_back(operand.shape());
  event.combine = combine;
  event.output = std::move(output);
  event.formula = formula;
  if (tracer.wants_values()) event.values = values;
  tracer.record(event);
}

}  // namespace detail

}  // namespace minimodel
