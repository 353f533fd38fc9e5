#pragma once
// MINIMODEL_EXPECT(condition, format, args...): an operation's contract on its operands,
// checked at its entry in Debug and sanitizer builds, compiled out of Release.
//
// A failed check throws minimodel::Error with the message formatted from `format` and `args`
// (fmt syntax). Write the operands' shapes in that message, on the same line as the check:
//
//   MINIMODEL_EXPECT(gamma.size() == d, "LayerNorm: x (T, d) = ({}, {}), gamma (d,) = ({})", T, d, n);
//
// Checked when NDEBUG is not defined (Debug, the asan preset) or when MINIMODEL_CHECK_CONTRACTS
// is defined to 1 (src/minimodel/CMakeLists.txt sets it for every sanitizer build, the fuzz
// preset included, which is RelWithDebInfo). The message is formatted only when a check fails,
// so a passing check allocates nothing and a forward stays allocation-free.
//
// These are programming errors inside the library (a caller handed an operation operands that
// do not fit). Bad input from outside (token ids, lengths, configs, files) is always checked,
// in every build, by the functions that receive it.
#include <fmt/format.h>

#include "minimodel/errors.hpp"

#if !defined(MINIMODEL_CHECK_CONTRACTS)
#if defined(NDEBUG)
#define MINIMODEL_CHECK_CONTRACTS 0
#else
#define MINIMODEL_CHECK_CONTRACTS 1
#endif
#endif

namespace minimodel {

// True when MINIMODEL_EXPECT checks; a test of a contract reports itself skipped otherwise.
inline constexpr bool kContractsChecked = MINIMODEL_CHECK_CONTRACTS != 0;

}  // namespace minimodel

#if MINIMODEL_CHECK_CONTRACTS
#define MINIMODEL_EXPECT(condition, ...)                                  \
  do {                                                                    \
    if (!(condition)) throw ::minimodel::Error(fmt::format(__VA_ARGS__)); \
  } while (false)
#else
// Never evaluated; kept so that the condition and the message still compile (and their
// operands count as used) in Release.
#define MINIMODEL_EXPECT(condition, ...)                                      \
  do {                                                                        \
    if (false && (condition)) static_cast<void>(fmt::format(__VA_ARGS__));    \
  } while (false)
#endif
