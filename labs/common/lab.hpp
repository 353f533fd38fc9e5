#pragma once
// What every lab shares: the header, numbered sections, check lines with verdicts, the
// --seed/--json options, JSON results, and one place that turns errors into a clear message
// and a non-zero exit. Output is designed for diffing: fixed precision, no times, no addresses.
#include <cstdint>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli_support/command_line.hpp"
#include "cli_support/files.hpp"
#include "cli_support/text.hpp"
#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/tensor.hpp"
#include "minimodel/trace.hpp"

namespace lab {

using cli_support::CommandLine;

struct LabInfo {
  std::string number;   // "01"
  std::string title;    // "Assemble Mini-GPT"
  std::string chapter;  // "labs/01-assemble-mini-gpt/README.md"
  std::string pieces;   // the student pieces the lab needs, by number: "1 to 10"
  std::string summary;  // what the lab does, for --help
};

struct CommonOptions {
  std::uint64_t seed = minimodel::MiniGPT::kDefaultSeed;
  std::string json_path;    // empty: no JSON
};

// A lab's command line: --help opens with "Lab NN · Title: <summary>" and names the chapter;
// --seed and --json are there for every lab. The lab adds its own options.
class LabCommandLine : public CommandLine {
 public:
  LabCommandLine(const LabInfo& info, CommonOptions& options);
};

class Report {
 public:
  Report(LabInfo info, const CommonOptions& options);

  // "\n== 3. Title ==": sections are numbered in order; chapters embed them by this title.
  void section(std::string_view title);
  // The next section gets this number (then counting goes on from it): lab 00 numbers its toy
  // 0 so that "== 1. LN1 ==" is its chapter's "Step 1 · LN1".
  void number_next_section(int number) { section_count_ = number - 1; }

  template <class... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    fmt::print(format, std::forward<Args>(args)...);
    fmt::print("\n");
  }

  // Checks. A check is something the student's code can make fail; its line names it, then
  // says what was observed. On a pass the detail states the rule that held; on a failure it
  // states the relation actually seen (>, ≠, ...) with the values, never the rule as if it held.
  //
  // "[PASS] what: computed 0.999995, expected 0.999995, |diff| 2.1e-08 <= 1.0e-05", or
  // "... |diff| 4.1e-04 > 1.0e-06". ok = |computed − expected| <= tolerance, so NaN fails.
  bool check_close(std::string_view what, double computed, double expected, double tolerance);
  // "[PASS] what: <quantity> 2.1e-08 <= 1.0e-05" or "[FAIL] what: <quantity> 4.1e-04 > 1.0e-06".
  // ok = value <= bound, so NaN fails.
  bool check_at_most(std::string_view what, std::string_view quantity, double value, double bound);
  // "[PASS] what: detail" / "[FAIL] what: detail". The detail must be true whichever way the
  // check went (a count, what was seen), or be given for each outcome.
  bool check(std::string_view what, bool ok, std::string_view detail = "");
  bool check(std::string_view what, bool ok, std::string_view detail_if_passed, std::string_view detail_if_failed);

  // "fact: what: detail". A statement the student's code cannot change (true by construction,
  // or computed from the double reference alone): printed for the lesson, not a check, and
  // not counted in the verdict.
  void fact(std::string_view what, std::string_view detail = "");

  // Pieces the student has not written yet (the starter build, docs/student-track.md): they
  // throw minimodel::NotImplemented. not_implemented() prints
  //   not implemented yet: <what>, see <chapter § section>
  // and a [FAIL] line for each of `checks` not already reported, since a section that stopped
  // halfway keeps the verdicts it printed before the throw.
  void not_implemented(const minimodel::NotImplemented& missing, const std::vector<std::string>& checks,
                       std::size_t reported_from = 0);
  // Runs one section's (or one check's) computation. A NotImplemented it throws is reported as
  // above, naming `checks` (every check the body would print), and the lab goes on with the
  // next section; so is a Missing (below) or a minimodel::NumericalError (a forward whose
  // values went non-finite): each of `checks` not yet reported fails with its message. Returns whether the body ran to its end; any other exception propagates.
  // The body must leave nothing half-built that later sections read.
  bool guard(const std::vector<std::string>& checks, const std::function<void()>& body);

  // The lab's own results for --json (shapes, values, ...). The report adds the checks.
  nlohmann::json& results() { return results_; }

  std::size_t failures() const { return failures_; }

  // Prints the verdict section (with the pieces not implemented yet, in the order the lab met
  // them), writes the JSON file if one was asked for, and returns the exit status: 0 when
  // every check passed, 1 otherwise.
  int finish();

 private:
  // Fails each of `checks` that no line from check number `reported_from` on has reported.
  void fail_unreported(const std::vector<std::string>& checks, std::size_t reported_from, std::string_view detail);

  LabInfo info_;
  CommonOptions options_;
  int section_count_ = 0;
  std::size_t checks_ = 0, failures_ = 0;
  nlohmann::json results_ = nlohmann::json::object();
  nlohmann::json checks_json_ = nlohmann::json::array();
  nlohmann::json facts_json_ = nlohmann::json::array();
  std::vector<std::string> missing_pieces_;  // "<what>, see <where>", in the order met
};

// Thrown by a lab when the value a check needs was never produced by the student's code (an
// operation the forward never ran, so its trace has no such event): the checks that needed it
// fail with this message, naming what is missing, and the lab goes on.
class Missing : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `body` and returns the NotImplemented it threw, if any: for a computation a lab does
// before its report starts (lab 01's forward), reported later with Report::not_implemented.
std::optional<minimodel::NotImplemented> attempt(const std::function<void()>& body);

// Parses the command line and runs the lab's body. A bad flag prints CLI11's message and
// exits 2 (--help exits 0); so does an empty value, or an integer option given a negative
// number for an unsigned field, a fraction or a number out of range (checked as text, since
// CLI11 would wrap or clamp them); a minimodel::Error or any other exception prints one line
// "error: ..." on stderr and exits 2. A crash inside a piece (a null pointer, an index out of
// range) prints "error: lab NN crashed in section ..." and exits 3. A NotImplemented that no section caught
// prints its "not implemented yet" line and exits 1: the lab's checks did not all pass.
int run(CommandLine& command_line, int argc, char** argv, const std::function<int()>& body);

// Writing files, and formatting text and numbers: src/cli_support, shared with the tools.
using cli_support::display_width;
using cli_support::pad_left;
using cli_support::pad_right;
using cli_support::with_commas;
using cli_support::write_file_atomically;

// Fixed-precision numbers for the tables: "-0.260070", widths aligned by the caller.
inline std::string number(double value, int decimals = 6) { return cli_support::fixed(value, decimals); }
// "[ 0.999995, -0.999995 ]" for one row.
std::string row(std::span<const double> values, int decimals = 6);
std::string row(std::span<const float> values, int decimals = 6);

// "(4, 8, 16) · (4, 16, 8)": a trace event's operand shapes joined by its combining sign.
std::string format_inputs(const minimodel::TraceEvent& event);

}  // namespace lab
