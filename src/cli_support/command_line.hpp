#pragma once
// A program's command line: CLI11 behind a small interface, for the labs and the tools.
//
// CLI11 (Debian ships 2.1, header-only) generates several seconds of code in every file that
// builds a CLI::App. Behind this class it is generated once, in command_line.cpp, and a
// program's main.cpp only names its options. The options, their help and their checks are
// CLI11's own: --help, the error messages and the exit statuses are CLI11's.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}

namespace cli_support {

class CommandLine;

// One option, to refine after adding it: app.option(...).show_default().delimiter(',').
class Option {
 public:
  Option& show_default();                      // "[64]" in --help: the value before parsing
  Option& delimiter(char separator);           // a list option: "1,2,3"
  Option& type_name(const std::string& name);  // "DIR" instead of "TEXT" in --help
  Option& one_of(const std::vector<std::string>& values);  // the only accepted values
  // A check of the text given: returns "" when it is fine, else what is wrong with it.
  // `description` is shown in --help beside the option ("TOLERANCE >= 0"), when not empty.
  Option& check(const std::function<std::string(const std::string&)>& check,
                const std::string& description = "");
  Option& range(std::int64_t min, std::int64_t max);  // a number in [min, max]
  Option& required();

 private:
  friend class CommandLine;
  explicit Option(CLI::Option* option) : option_(option) {}
  CLI::Option* option_;
};

class CommandLine {
 public:
  // every_value: before parsing, every text option is checked to be non-empty and every
  // integer option to be a whole number in its type's range, given as text (CLI11 would wrap a
  // negative number or clamp a large one without a word). The labs use it; as_declared checks
  // only what each option asks for.
  enum class Checks { every_value, as_declared };

  explicit CommandLine(const std::string& description, Checks checks = Checks::every_value);
  ~CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Text printed after the options in --help.
  void footer(const std::string& text);

  // "--name VALUE", or a positional argument when the name has no leading "-". Defined for
  // std::string, std::int64_t, std::uint64_t (std::size_t), double and std::vector<int>.
  template <class T>
  Option option(const std::string& name, T& value, const std::string& help);

  // "--name", no value: sets value to true.
  void flag(const std::string& name, bool& value, const std::string& help);

  // Parses argv. Returns nothing when the program should run; otherwise the exit status, after
  // printing --help (0) or the error with a hint (2).
  std::optional<int> parse(int argc, char** argv);

  // How many times the option was given (after parse).
  std::size_t count(const std::string& name) const;

 private:
  std::unique_ptr<CLI::App> app_;
  Checks checks_;
};

}  // namespace cli_support
