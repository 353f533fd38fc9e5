#pragma once
// The library's exceptions. Every one carries a message that names what was wrong and how
// to fix it; the labs print it and exit non-zero.
#include <stdexcept>
#include <string>
#include <utility>

namespace minimodel {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invalid configuration (names the field, the value and the rule).
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Bad input to a forward or the tokenizer: unknown word, id out of range, bad length.
class InputError : public Error {
 public:
  using Error::Error;
};

// A malformed or mismatched weights file.
class WeightsError : public Error {
 public:
  using Error::Error;
};

// A value that is not finite appeared in a forward (see FiniteGuard).
class NumericalError : public Error {
 public:
  using Error::Error;
};

// A piece of the model that the starter build (the `starter` preset, docs/student-track.md)
// leaves to the student: `what` names it, `where` the chapter section that explains it.
// The labs catch it, print "not implemented yet: <what>, see <where>" and fail the checks
// that need the piece; the solution never throws it.
class NotImplemented : public Error {
 public:
  NotImplemented(std::string what, std::string where)
      : Error("not implemented yet: " + what + ", see " + where),
        piece_(std::move(what)),
        where_(std::move(where)) {}
  const std::string& piece() const { return piece_; }
  const std::string& where() const { return where_; }

 private:
  std::string piece_, where_;
};

}  // namespace minimodel
