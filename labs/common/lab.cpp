#include "lab.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <csignal>
#include <unistd.h>

#include "minimodel/errors.hpp"

namespace lab {

namespace {

// What a crash inside a piece prints (see install_crash_report): prepared outside the signal
// handler, which may only write() it.
char g_crash_message[600] = "\nerror: the lab crashed before its first section\n";
std::size_t g_crash_length = std::strlen(g_crash_message);

void report_crash(int) {
  // Only async-signal-safe calls here: write() and _exit().
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, g_crash_message, g_crash_length);
  ::_exit(3);
}

void set_crash_section(const std::string& lab, int number, std::string_view title) {
  const int n = std::snprintf(
      g_crash_message, sizeof g_crash_message,
      "\nerror: lab %s crashed in section %d. %.*s (a segmentation fault or similar). The code of a piece "
      "read or wrote memory it does not own: a null pointer (beta_ is nullptr for RMSNorm), an index past "
      "the end of a row, a buffer used before it was sized?\n",
      lab.c_str(), number, static_cast<int>(title.size()), title.data());
  g_crash_length = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof g_crash_message - 1) : 0;
}

// A piece a student writes can crash the process (a null pointer, an index out of range).
// Instead of a bare "Segmentation fault", the lab then says in which section it happened and
// exits with status 3, after everything it printed so far (stdout is line-buffered for that).
// Not under AddressSanitizer, whose own report of the same fault says more.
void install_crash_report() {
#if defined(__SANITIZE_ADDRESS__)
  return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return;
#endif
#endif
  for (const int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(signal, report_crash);
}

// --json is written at the very end of a run: refuse a path that cannot be written before the
// run starts, instead of after a page of output (and after a lab wrote its other files).
std::string check_output_path(const std::string& text) {
  namespace fs = std::filesystem;
  if (text.empty()) return "the path is empty";
  const fs::path path(text);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return fmt::format("cannot write '{}': it is a directory; give a file name", text);
  }
  const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(directory, ec)) {
    return fmt::format("cannot write '{}': '{}' is not an existing directory", text, directory.string());
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return fmt::format("cannot write '{}': the directory '{}' is not writable ({})", text,
                       directory.string(), std::strerror(errno));
  }
  return "";
}

}  // namespace

LabCommandLine::LabCommandLine(const LabInfo& info, CommonOptions& options)
    : CommandLine(fmt::format("Lab {} · {}: {}\nChapter: {}", info.number, info.title, info.summary, info.chapter)) {
  option("--seed", options.seed, "seed of the model's initialisation").show_default();
  option("--json", options.json_path, "also write the results as JSON to this file").check(check_output_path);
}

Report::Report(LabInfo info, const CommonOptions& options)
    : info_(std::move(info)), options_(options) {
  print("Lab {} · {}", info_.number, info_.title);
  print("chapter: {}", info_.chapter);
  print("seed: {}", options_.seed);
}

void Report::section(std::string_view title) {
  ++section_count_;
  print("");
  print("== {}. {} ==", section_count_, title);
  set_crash_section(info_.number, section_count_, title);
}

bool Report::check(std::string_view what, bool ok, std::string_view detail) {
  ++checks_;
  if (!ok) ++failures_;
  if (detail.empty()) {
    print("[{}] {}", ok ? "PASS" : "FAIL", what);
  } else {
    print("[{}] {}: {}", ok ? "PASS" : "FAIL", what, detail);
  }
  checks_json_.push_back({{"name", what}, {"passed", ok}, {"detail", detail}});
  return ok;
}

bool Report::check_close(std::string_view what, double computed, double expected, double tolerance) {
  const double diff = std::abs(computed - expected);
  const bool ok = diff <= tolerance;  // NaN compares false: a NaN fails
  const std::string detail = fmt::format("computed {}, expected {}, |diff| {:.1e} {} {:.1e}",
                                         number(computed), number(expected), diff,
                                         ok ? "<=" : ">", tolerance);
  check(what, ok, detail);
  nlohmann::json& last = checks_json_.back();
  last["computed"] = computed;
  last["expected"] = expected;
  last["tolerance"] = tolerance;
  return ok;
}

bool Report::check_at_most(std::string_view what, std::string_view quantity, double value, double bound) {
  const bool ok = value <= bound;  // NaN compares false: a NaN fails
  return check(what, ok, fmt::format("{} {:.1e} {} {:.1e}", quantity, value, ok ? "<=" : ">", bound));
}

bool Report::check(std::string_view what, bool ok, std::string_view detail_if_passed,
                   std::string_view detail_if_failed) {
  return check(what, ok, ok ? detail_if_passed : detail_if_failed);
}

void Report::fact(std::string_view what, std::string_view detail) {
  if (detail.empty()) {
    print("fact: {}", what);
  } else {
    print("fact: {}: {}", what, detail);
  }
  facts_json_.push_back({{"name", what}, {"detail", detail}});
}

void Report::not_implemented(const minimodel::NotImplemented& missing, const std::vector<std::string>& checks,
                             std::size_t reported_from) {
  print("not implemented yet: {}, see {}", missing.piece(), missing.where());
  const std::string piece = fmt::format("{}, see {}", missing.piece(), missing.where());
  if (std::find(missing_pieces_.begin(), missing_pieces_.end(), piece) == missing_pieces_.end()) {
    missing_pieces_.push_back(piece);
  }
  fail_unreported(checks, reported_from, fmt::format("not implemented yet ({})", missing.piece()));
}

void Report::fail_unreported(const std::vector<std::string>& checks, std::size_t reported_from,
                             std::string_view detail) {
  for (const std::string& name : checks) {
    bool reported = false;
    for (std::size_t i = reported_from; i < checks_json_.size() && !reported; ++i) {
      reported = checks_json_[i]["name"] == name;
    }
    if (!reported) check(name, false, detail);
  }
}

bool Report::guard(const std::vector<std::string>& checks, const std::function<void()>& body) {
  const std::size_t reported_from = checks_json_.size();
  try {
    body();
    return true;
  } catch (const minimodel::NotImplemented& missing) {
    not_implemented(missing, checks, reported_from);
    return false;
  } catch (const Missing& missing) {
    fail_unreported(checks, reported_from, missing.what());
    return false;
  } catch (const minimodel::NumericalError& error) {
    // The model's own arithmetic went non-finite (the message names the operation): the
    // computation under test failed, which is a failing check, not an error of the lab.
    fail_unreported(checks, reported_from, error.what());
    return false;
  }
}

std::optional<minimodel::NotImplemented> attempt(const std::function<void()>& body) {
  try {
    body();
    return std::nullopt;
  } catch (const minimodel::NotImplemented& missing) {
    return missing;
  }
}

int Report::finish() {
  section("Verdict");
  const std::size_t passed = checks_ - failures_;
  if (failures_ == 0) {
    print("PASS: all {} checks of lab {} passed", checks_, info_.number);
  } else {
    print("FAIL: {} of {} checks of lab {} failed (see the [FAIL] lines above)", failures_, checks_,
          info_.number);
  }
  // The starter build: what to write, in the pieces' order (docs/student-track.md): each
  // piece's name starts with its number, bottom-up from LayerNorm to the closed form, so this
  // list agrees with the README's table and the TODOs whatever order the lab met them in.
  const auto number_of = [](const std::string& piece) {
    int n = 0;
    for (const char c : piece) {
      if (c < '0' || c > '9') break;
      n = 10 * n + (c - '0');
    }
    return n;
  };
  std::stable_sort(missing_pieces_.begin(), missing_pieces_.end(),
                   [&](const std::string& a, const std::string& b) { return number_of(a) < number_of(b); });
  for (std::size_t i = 0; i < missing_pieces_.size(); ++i) {
    print("{} {}", i == 0 ? "not implemented yet, start with:" : "                    then:", missing_pieces_[i]);
  }
  // A piece that stops the forward hides the ones after it: say which this lab needs in all.
  if (!missing_pieces_.empty() && !info_.pieces.empty()) {
    print("this lab needs pieces {} (README, the student track): write them in that order", info_.pieces);
  }
  if (!options_.json_path.empty()) {
    nlohmann::json doc = {{"lab", info_.number},       {"title", info_.title},
                          {"chapter", info_.chapter},  {"seed", options_.seed},
                          {"checks", checks_json_},    {"checks_passed", passed},
                          {"checks_failed", failures_}, {"passed", failures_ == 0},
                          {"facts", facts_json_},
                          {"results", results_}};
    write_file_atomically(options_.json_path, doc.dump(2) + "\n");
  }
  std::fflush(stdout);
  return failures_ == 0 ? 0 : 1;
}

int run(CommandLine& command_line, int argc, char** argv, const std::function<int()>& body) {
  if (const std::optional<int> status = command_line.parse(argc, argv)) return *status;
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);  // a crash then loses no line already printed
  install_crash_report();
  try {
    return body();
  } catch (const minimodel::NotImplemented& missing) {
    std::fflush(stdout);
    fmt::print("not implemented yet: {}, see {}\n", missing.piece(), missing.where());
    fmt::print(stderr, "error: the lab stopped at a piece that is not implemented yet ({})\n",
               missing.piece());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
}

std::string row(std::span<const double> values, int decimals) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    text += fmt::format("{}{:>{}}", i == 0 ? " " : ", ", number(values[i], decimals), decimals + 3);
  }
  return text + " ]";
}

std::string row(std::span<const float> values, int decimals) {
  std::vector<double> as_double(values.begin(), values.end());
  return row(as_double, decimals);
}

std::string format_inputs(const minimodel::TraceEvent& event) {
  std::string text;
  for (std::size_t i = 0; i < event.inputs.size(); ++i) {
    if (i > 0) text += event.combine.empty() ? ", " : fmt::format(" {} ", event.combine);
    text += minimodel::format_shape(event.inputs[i]);
  }
  return text;
}

}  // namespace lab
