#include "reference_match.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "lab.hpp"
#include "minimodel/tensor.hpp"

namespace lab {

namespace ref = minimodel::reference;

double max_abs_diff(std::span<const double> a, std::span<const double> b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isinf(a[i]) && a[i] == b[i]) continue;
    const double diff = std::abs(a[i] - b[i]);
    if (std::isnan(diff)) return diff;
    worst = std::max(worst, diff);
  }
  return worst;
}

OperationMatch match(std::span<const float> model, const std::vector<double>& reference,
                     const minimodel::ReferenceTolerance& tol) {
  OperationMatch m;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double r = reference[i], a = model[i];
    // A masked score is −∞ on both sides: equal, no difference.
    const double diff = std::isinf(r) && a == r ? 0.0 : std::abs(a - r);
    const double allowed = std::isinf(r) ? 0.0 : tol.at(r);
    if (!(diff <= m.max_diff)) m.max_diff = diff;  // keeps a NaN once seen
    if (m.within && !(diff <= allowed)) {          // NaN compares false: it fails
      m.within = false;
      m.first_out = i, m.allowed = allowed;
    }
  }
  return m;
}

std::vector<std::optional<OperationMatch>> match_operations(const std::vector<minimodel::TraceRecorder::Entry>& entries,
                                                            const ref::Result& reference,
                                                            const minimodel::ReferenceTolerance& tol) {
  std::vector<std::optional<OperationMatch>> matches;
  for (const auto& e : entries) {
    const auto step = std::find_if(reference.steps.begin(), reference.steps.end(),
                                   [&](const ref::Step& s) { return s.name == e.event.name; });
    const bool comparable = step != reference.steps.end() && step->value.shape == e.event.output &&
                            step->value.data.size() == e.values.size();
    matches.push_back(comparable ? std::optional(match(e.values, step->value.data, tol)) : std::nullopt);
  }
  return matches;
}

std::string first_operation_mismatch(const std::vector<minimodel::TraceRecorder::Entry>& entries,
                                     const ref::Result& reference) {
  const std::size_t expected_ops = reference.steps.size();
  for (std::size_t i = 0; i < std::max(entries.size(), expected_ops); ++i) {
    if (i >= entries.size()) {
      return fmt::format("{} recorded ≠ {} in the reference: #{} {} was never recorded", entries.size(),
                         expected_ops, i + 1, reference.steps[i].name);
    }
    if (i >= expected_ops) {
      return fmt::format("{} recorded ≠ {} in the reference: #{} {} is one more than it runs", entries.size(),
                         expected_ops, i + 1, entries[i].event.name);
    }
    if (entries[i].event.name != reference.steps[i].name) {
      return fmt::format("#{} is {} where the reference runs {}", i + 1, entries[i].event.name,
                         reference.steps[i].name);
    }
    if (entries[i].event.output != reference.steps[i].value.shape) {
      return fmt::format("#{} {} has shape {} ≠ {} in the reference", i + 1, entries[i].event.name,
                         minimodel::format_shape(entries[i].event.output),
                         minimodel::format_shape(reference.steps[i].value.shape));
    }
  }
  return "";
}

std::string first_divergence(const std::vector<minimodel::TraceRecorder::Entry>& entries, const ref::Result& reference,
                             const std::vector<std::optional<OperationMatch>>& matches, std::size_t& compared) {
  compared = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!matches[i]) continue;
    ++compared;
    const OperationMatch& m = *matches[i];
    if (!m.within) {
      const minimodel::TraceEvent& e = entries[i].event;
      return fmt::format(
          "first divergence at #{} {}: max |model − reference| {:.1e} > atol + rtol·|ref|; at {} model {}, "
          "reference {}, allowed {:.1e}",
          i + 1, e.name, m.max_diff, minimodel::format_index(m.first_out, e.output),
          number(entries[i].values[m.first_out]), number(ref::step(reference, e.name).data[m.first_out]), m.allowed);
    }
  }
  if (compared != reference.steps.size()) {
    return fmt::format("{} of the reference's {} operations could be compared (see the line above)", compared,
                       reference.steps.size());
  }
  return "";
}

}  // namespace lab
