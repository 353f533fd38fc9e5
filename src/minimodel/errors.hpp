#pragma once
// The library's exceptions. Every one carries a message that names what was wrong and how
// to fix it; the labs print it and exit non-zero.
#include <stdexcept>

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

}  // namespace minimodel
