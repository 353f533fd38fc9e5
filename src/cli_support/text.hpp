#pragma once
// Text for the terminal, shared by the labs and the tools: widths counted in columns rather
// than bytes, and numbers printed the same on every machine and in every locale.
#include <cstddef>
#include <string>
#include <string_view>

namespace cli_support {

// The columns `text` takes in a terminal: one per code point. The labs' output is full of
// signs (·, ᵀ, √, →, −, γ, σ²) that take one column but two or three bytes; we count code
// points ourselves rather than rely on how a given fmt version measures width. (No sign the
// labs print is double-width or combining.)
std::size_t display_width(std::string_view text);

// `text` padded with spaces to `width` columns, on the right (left-aligned) or on the left.
std::string pad_right(std::string_view text, std::size_t width);
std::string pad_left(std::string_view text, std::size_t width);

// `value` with `decimals` digits after the point, never an exponent, and never "-0.000":
// a value on either side of zero by rounding noise prints the same.
std::string fixed(double value, int decimals);

// "103,680": thousands separated by commas, the same in every locale.
std::string with_commas(std::size_t n);

}  // namespace cli_support
