#include "minimodel/trace.hpp"

#include <fmt/format.h>

#include "minimodel/errors.hpp"

namespace minimodel {

void TraceRecorder::record(const TraceEvent& event) {
  // event.values is only valid during this call: keep a copy, never the pointer.
  Entry entry{event, {}};
  if (keep_values_) entry.values.assign(event.values.begin(), event.values.end());
  entry.event.values = {};
  entries_.push_back(std::move(entry));
}

const TraceRecorder::Entry& TraceRecorder::at(const std::string& name) const {
  for (const Entry& e : entries_) {
    if (e.event.name == name) return e;
  }
  throw Error(fmt::format("no trace event named '{}'", name));
}

}  // namespace minimodel
