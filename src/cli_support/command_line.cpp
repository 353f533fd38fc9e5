#include "cli_support/command_line.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <fmt/format.h>
#include <string_view>

namespace cli_support {

namespace {

// CLI11 2.1 converts "-5" for an unsigned option to 2^64 − 5, and a number too large for the
// option's type to the type's maximum, both without a word. Every integer option of a lab is
// therefore checked as text first; the message quotes what was typed.
std::string check_integer_text(const std::string& text, bool is_unsigned) {
  const std::string_view digits = !text.empty() && text.front() == '+' ? std::string_view(text).substr(1)
                                                                        : std::string_view(text);
  const char* first = digits.data();
  const char* last = digits.data() + digits.size();
  if (is_unsigned && !digits.empty() && digits.front() == '-') {
    return fmt::format("'{}' is negative; give a whole number >= 0", text);
  }
  std::uint64_t as_unsigned = 0;
  std::int64_t as_signed = 0;
  const std::from_chars_result parsed = is_unsigned ? std::from_chars(first, last, as_unsigned)
                                                    : std::from_chars(first, last, as_signed);
  if (parsed.ec == std::errc::result_out_of_range) {
    return fmt::format("'{}' is out of range for this option", text);
  }
  if (parsed.ec != std::errc() || parsed.ptr != last || digits.empty()) {
    return fmt::format("'{}' is not a whole number", text);
  }
  return "";
}

// An empty value is never what a student meant: `--load-weights ''` (or an unset shell
// variable) would otherwise read as "no file given" and run on the seeded weights.
std::string check_not_empty(const std::string& text) {
  return text.empty() ? "the value is empty; give one, or leave the option out" : "";
}

void check_option_values(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type == "TEXT") option->check(CLI::Validator(check_not_empty, "", ""));
    if (type != "UINT" && type != "INT") continue;
    const bool is_unsigned = type == "UINT";
    option->check(CLI::Validator(
        [is_unsigned](std::string& text) { return check_integer_text(text, is_unsigned); }, "", ""));
  }
}

}  // namespace

CommandLine::CommandLine(const std::string& description, Checks checks)
    : app_(std::make_unique<CLI::App>(description)), checks_(checks) {}

CommandLine::~CommandLine() = default;

void CommandLine::footer(const std::string& text) { app_->footer(text); }

Option& Option::show_default() {
  option_->capture_default_str();
  return *this;
}

Option& Option::delimiter(char separator) {
  option_->delimiter(separator);
  return *this;
}

Option& Option::type_name(const std::string& name) {
  option_->type_name(name);
  return *this;
}

Option& Option::one_of(const std::vector<std::string>& values) {
  option_->check(CLI::IsMember(values));
  return *this;
}

Option& Option::check(const std::function<std::string(const std::string&)>& check,
                      const std::string& description) {
  option_->check(CLI::Validator(check, description, ""));
  return *this;
}

Option& Option::range(std::int64_t min, std::int64_t max) {
  option_->check(CLI::Range(min, max));
  return *this;
}

Option& Option::required() {
  option_->required();
  return *this;
}

template <class T>
Option CommandLine::option(const std::string& name, T& value, const std::string& help) {
  return Option(app_->add_option(name, value, help));
}

// The value types the programs use; another one is a link error naming it, to be added here.
template Option CommandLine::option(const std::string&, std::string&, const std::string&);
template Option CommandLine::option(const std::string&, std::int64_t&, const std::string&);
template Option CommandLine::option(const std::string&, std::uint64_t&, const std::string&);
template Option CommandLine::option(const std::string&, std::vector<int>&, const std::string&);
template Option CommandLine::option(const std::string&, double&, const std::string&);

std::optional<int> CommandLine::parse(int argc, char** argv) {
  if (checks_ == Checks::every_value) check_option_values(*app_);
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app_->exit(e);  // prints --help, or the parse error with a hint
    return code == 0 ? 0 : 2;
  }
  return std::nullopt;
}

std::size_t CommandLine::count(const std::string& name) const { return app_->count(name); }

void CommandLine::flag(const std::string& name, bool& value, const std::string& help) {
  app_->add_flag(name, value, help);
}

}  // namespace cli_support
