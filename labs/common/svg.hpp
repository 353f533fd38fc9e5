#pragma once
// The labs' diagrams: a small SVG builder (rectangles, text, lines, a heatmap with labelled
// axes, a colour scale, a stacked bar) shared by every lab that draws (`--svg DIR`).
//
// Why hand-written: Debian's C++ stack has no SVG *writer* that fits. librsvg and
// cairo/Qt can draw SVGs, but they pull a graphics toolkit into a teaching build for what is
// a few hundred lines of text, and none of them promises byte-stable output. Here we control
// every byte:
//   - one element per line, attributes in a fixed order, no timestamps, no ids from pointers;
//   - every coordinate printed with a fixed number of decimals (num());
//   - colours never depend on data: a cell is a constant colour whose fill-opacity carries
//     the value, printed with 3 decimals. So a value that moves by 1e-7 on another CPU moves
//     one decimal number by at most 0.001 — which the regeneration test (labs/
//     check_diagrams.cmake, through labdiff) compares within a tolerance — and never turns
//     one hex code into another, which labdiff would compare exactly.
//   - the only data-driven *structure* is exact zeros (masked attention weights, the causal
//     zeros of lab 03), which are exact by construction on every machine.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cli_support/command_line.hpp"
#include "cli_support/text.hpp"

namespace lab::svg {

// Numbers for coordinates and opacities: fixed decimals, never an exponent, never "-0".
inline std::string num(double value, int decimals = 1) { return cli_support::fixed(value, decimals); }

// Text as it must appear inside an SVG: & < > " escaped ("<bos>" -> "&lt;bos&gt;").
std::string escape(std::string_view text);

// Width of a text of `size` px in the sans-serif font, estimated from its code points (we have
// no font metrics; 0.6 em per character errs on the wide side, so layouts leave room).
double text_width(std::string_view text, double size);

// The palette: constant colours, so the data lives in opacities only (see above).
namespace colour {
inline constexpr std::string_view ink = "#222222";
inline constexpr std::string_view grey = "#777777";
inline constexpr std::string_view light_grey = "#e3e3e3";
inline constexpr std::string_view heat = "#c0392b";     // heatmap cells: opacity = value / max
inline constexpr std::string_view blue = "#3b6fb6";
inline constexpr std::string_view orange = "#e08a2c";
inline constexpr std::string_view green = "#4a9a5b";
inline constexpr std::string_view purple = "#8e63b5";
inline constexpr std::string_view teal = "#2a9d9d";
inline constexpr std::string_view red = "#c0392b";
inline constexpr std::string_view sand = "#c9b27c";
}  // namespace colour

struct Paint {
  std::string_view fill = "none";
  double fill_opacity = 1.0;  // printed with 3 decimals
  std::string_view stroke = "none";
  double stroke_width = 1.0;
  bool dashed = false;
  double corner = 0.0;        // rounded corners (rx)
};

struct Font {
  double size = 12.0;
  std::string_view anchor = "start";  // start | middle | end
  bool bold = false;
  bool mono = false;
  std::string_view fill = colour::ink;
  double rotate = 0.0;                // degrees, about the text's anchor point
  bool halo = false;                  // a white outline, readable on any cell colour
};

class Document {
 public:
  // `description` names the program that drew it, for the <desc> element.
  Document(double width, double height, std::string title, std::string description);

  void rect(double x, double y, double w, double h, const Paint& paint);
  void line(double x1, double y1, double x2, double y2, std::string_view stroke,
            double width = 1.0, bool dashed = false);
  void text(double x, double y, std::string_view content, const Font& font = {});
  // The diagram's title, centred at the top (and the <title> element, for screen readers).
  void heading(std::string_view title, std::string_view subtitle = "");

  // Emits `definition` inside <defs> the first time `id` is seen; false when already defined.
  bool define(const std::string& id, std::string_view definition);

  double width() const { return width_; }
  double height() const { return height_; }
  std::string str() const;

 private:
  double width_, height_;
  std::string title_, description_;
  std::vector<std::string> defined_;  // ids of gradients and markers already emitted
  std::vector<std::string> body_;
};

struct Size {
  double width = 0.0, height = 0.0;
};

// A matrix drawn as cells whose colour intensity is value / scale_max, with the rows and
// columns labelled (rows down the left, columns along the top, text turned 90°).
struct Heatmap {
  std::string title{};                     // above the map
  std::vector<std::string> row_labels{};   // one per row (e.g. the query tokens)
  std::vector<std::string> column_labels{};// one per column (e.g. the key tokens)
  std::string row_axis{}, column_axis{};   // the axes' names: "query position", "key"
  std::vector<double> values{};            // rows × columns, row-major
  double scale_max = 1.0;                  // drawn in the full colour (values are >= 0)
  // Cells that are exactly 0 for a structural reason (the causal mask) are drawn grey with
  // `zero_label` instead of as "a very small value". Off: exact zeros are just 0.
  bool grey_exact_zeros = false;
  std::string zero_label = "0";
  int decimals = 2;                        // the value written in each cell; < 0: none
  double cell = 30.0;                      // px per cell
  std::string_view colour = colour::heat;
};

Size measure(const Heatmap& map);
Size draw(Document& doc, double x, double y, const Heatmap& map);

// A vertical colour scale from 0 (bottom) to `max` (top), labelled at 0, max/2 and max.
// `decimals` for the labels. Returns its size including labels.
Size colour_scale(Document& doc, double x, double y, double height, double max, std::string_view label,
                  int decimals, std::string_view colour = colour::heat);

// A legend entry: a swatch and a label.
void swatch(Document& doc, double x, double y, std::string_view colour, std::string_view label,
            double size = 12.0);

// `--svg DIR`, with the same help text in every lab.
void add_option(cli_support::CommandLine& command_line, std::string& directory);
// The directory given to --svg, checked before a lab does any work: it must exist and be a
// directory. Otherwise a minimodel::InputError that names it (the lab exits 2).
std::filesystem::path checked_directory(const std::string& directory);
// Writes doc to dir/name atomically (lab::write_file_atomically) and says so on stderr, so
// that stdout, which expected.txt pins, is the same with and without --svg.
void write(const std::filesystem::path& directory, std::string_view name, const Document& doc);

}  // namespace lab::svg
