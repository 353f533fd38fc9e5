#include "minimodel/finite_guard.hpp"

#include <cmath>
#include <fmt/format.h>

#include "minimodel/errors.hpp"

namespace minimodel {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void FiniteGuard::record(const TraceEvent& event) {
  const bool mask_allowed = ends_with(event.name, ".masked");
  for (std::size_t i = 0; i < event.values.size(); ++i) {
    const float v = event.values[i];
    if (std::isfinite(v) || (mask_allowed && v == -INFINITY)) continue;
    throw NumericalError(fmt::format(
        "{} produced {} at {} (output shape {}): the first non-finite value of this forward; "
        "check the inputs and the weights of this operation",
        event.name, v, format_index(i, event.output), format_shape(event.output)));
  }
  if (next_ != nullptr) next_->record(event);
}

}  // namespace minimodel
