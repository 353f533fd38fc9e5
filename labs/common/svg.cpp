#include "svg.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "lab.hpp"
#include "minimodel/errors.hpp"

namespace lab::svg {

namespace {

constexpr std::string_view kSans = "DejaVu Sans, Verdana, Arial, sans-serif";
constexpr std::string_view kMono = "DejaVu Sans Mono, Menlo, Consolas, monospace";

// "#c0392b" -> "c0392b", for ids of gradients and markers that depend on a colour.
std::string colour_id(std::string_view colour) {
  std::string id;
  for (const char c : colour) {
    if (c != '#') id += c;
  }
  return id;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

double text_width(std::string_view text, double size) {
  return 0.6 * size * static_cast<double>(cli_support::display_width(text));
}

Document::Document(double width, double height, std::string title, std::string description)
    : width_(width), height_(height), title_(std::move(title)), description_(std::move(description)) {}

void Document::rect(double x, double y, double w, double h, const Paint& p) {
  std::string e = fmt::format(R"svg(<rect x="{}" y="{}" width="{}" height="{}")svg", num(x), num(y), num(w), num(h));
  if (p.corner > 0.0) e += fmt::format(R"svg( rx="{}")svg", num(p.corner));
  e += fmt::format(R"svg( fill="{}")svg", p.fill);
  if (p.fill_opacity < 1.0) e += fmt::format(R"svg( fill-opacity="{}")svg", num(std::max(p.fill_opacity, 0.0), 3));
  if (p.stroke != "none") {
    e += fmt::format(R"svg( stroke="{}" stroke-width="{}")svg", p.stroke, num(p.stroke_width));
    if (p.dashed) e += R"svg( stroke-dasharray="4 3")svg";
  }
  body_.push_back(e + "/>");
}

void Document::line(double x1, double y1, double x2, double y2, std::string_view stroke, double width,
                    bool dashed) {
  std::string e = fmt::format(R"svg(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}")svg",
                              num(x1), num(y1), num(x2), num(y2), stroke, num(width));
  if (dashed) e += R"svg( stroke-dasharray="4 3")svg";
  body_.push_back(e + "/>");
}

void Document::text(double x, double y, std::string_view content, const Font& f) {
  std::string e = fmt::format(R"svg(<text x="{}" y="{}" font-size="{}")svg", num(x), num(y), num(f.size));
  if (f.mono) e += fmt::format(R"svg( font-family="{}")svg", kMono);
  if (f.anchor != "start") e += fmt::format(R"svg( text-anchor="{}")svg", f.anchor);
  if (f.bold) e += R"svg( font-weight="bold")svg";
  e += fmt::format(R"svg( fill="{}")svg", f.fill);
  if (f.halo) e += R"svg( stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke")svg";
  if (f.rotate != 0.0) e += fmt::format(R"svg( transform="rotate({} {} {})")svg", num(f.rotate), num(x), num(y));
  body_.push_back(e + ">" + escape(content) + "</text>");
}

void Document::heading(std::string_view title, std::string_view subtitle) {
  text(width_ / 2, 24, title, {.size = 17, .anchor = "middle", .bold = true});
  if (!subtitle.empty()) text(width_ / 2, 44, subtitle, {.size = 12, .anchor = "middle", .fill = colour::grey});
}

bool Document::define(const std::string& id, std::string_view definition) {
  if (std::find(defined_.begin(), defined_.end(), id) != defined_.end()) return false;
  defined_.push_back(id);
  body_.push_back(fmt::format("<defs>{}</defs>", definition));
  return true;
}

std::string Document::str() const {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"{2}\">\n",
      num(width_, 0), num(height_, 0), kSans);
  out += fmt::format("<title>{}</title>\n", escape(title_));
  out += fmt::format("<desc>{}</desc>\n", escape(description_));
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", num(width_, 0),
                     num(height_, 0));
  for (const std::string& element : body_) out += element + "\n";
  return out + "</svg>\n";
}

// ---------------------------------------------------------------------------------------------
// Heatmap. Layout, left to right: the row axis name (turned 90°), the row labels, the grid;
// top to bottom: the title, the column axis name, the column labels (turned 90°), the grid.

namespace {

constexpr double kLabelSize = 11.0, kAxisSize = 11.0, kTitleSize = 13.0, kCellText = 9.5;

struct HeatmapLayout {
  double title_h, axis_h, column_labels_h, axis_w, row_labels_w;
  double grid_x, grid_y;  // relative to the map's origin
  Size size;
};

HeatmapLayout layout(const Heatmap& m) {
  HeatmapLayout l{};
  double widest_column = 0.0, widest_row = 0.0;
  for (const std::string& s : m.column_labels) widest_column = std::max(widest_column, text_width(s, kLabelSize));
  for (const std::string& s : m.row_labels) widest_row = std::max(widest_row, text_width(s, kLabelSize));
  l.title_h = m.title.empty() ? 0.0 : 22.0;
  l.axis_h = m.column_axis.empty() ? 0.0 : 16.0;
  l.column_labels_h = widest_column + 6.0;
  l.axis_w = m.row_axis.empty() ? 0.0 : 16.0;
  l.row_labels_w = widest_row + 6.0;
  l.grid_x = l.axis_w + l.row_labels_w;
  l.grid_y = l.title_h + l.axis_h + l.column_labels_h;
  const double columns = static_cast<double>(m.column_labels.size()), rows = static_cast<double>(m.row_labels.size());
  l.size = {l.grid_x + columns * m.cell + 2.0, l.grid_y + rows * m.cell + 2.0};
  return l;
}

}  // namespace

Size measure(const Heatmap& map) { return layout(map).size; }

Size draw(Document& doc, double x, double y, const Heatmap& m) {
  const HeatmapLayout l = layout(m);
  const std::size_t rows = m.row_labels.size(), columns = m.column_labels.size();
  if (m.values.size() != rows * columns) {
    throw minimodel::Error(fmt::format("heatmap '{}': {} values for {} × {} labels", m.title, m.values.size(),
                                       rows, columns));
  }
  const double gx = x + l.grid_x, gy = y + l.grid_y;
  const double grid_w = static_cast<double>(columns) * m.cell, grid_h = static_cast<double>(rows) * m.cell;
  if (!m.title.empty()) {
    doc.text(gx + grid_w / 2, y + 15, m.title, {.size = kTitleSize, .anchor = "middle", .bold = true});
  }
  if (!m.column_axis.empty()) {
    doc.text(gx + grid_w / 2, y + l.title_h + 12, m.column_axis,
             {.size = kAxisSize, .anchor = "middle", .fill = colour::grey});
  }
  if (!m.row_axis.empty()) {
    doc.text(x + 12, gy + grid_h / 2, m.row_axis,
             {.size = kAxisSize, .anchor = "middle", .fill = colour::grey, .rotate = -90});
  }
  for (std::size_t j = 0; j < columns; ++j) {
    const double cx = gx + (static_cast<double>(j) + 0.5) * m.cell + kLabelSize * 0.35;
    doc.text(cx, gy - 4, m.column_labels[j], {.size = kLabelSize, .rotate = -90});
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const double cy = gy + (static_cast<double>(i) + 0.5) * m.cell + kLabelSize * 0.35;
    doc.text(gx - 5, cy, m.row_labels[i], {.size = kLabelSize, .anchor = "end"});
  }
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < columns; ++j) {
      const double value = m.values[i * columns + j];
      const double cx = gx + static_cast<double>(j) * m.cell, cy = gy + static_cast<double>(i) * m.cell;
      const double text_y = cy + m.cell / 2 + kCellText * 0.35;
      if (m.grey_exact_zeros && value == 0.0) {
        doc.rect(cx, cy, m.cell, m.cell, {.fill = colour::light_grey, .stroke = "#ffffff"});
        doc.text(cx + m.cell / 2, text_y, m.zero_label, {.size = kCellText, .anchor = "middle", .fill = colour::grey});
        continue;
      }
      // The value is the opacity of a constant colour over white: 0 white, scale_max full.
      const double intensity = m.scale_max > 0.0 ? std::clamp(value / m.scale_max, 0.0, 1.0) : 0.0;
      doc.rect(cx, cy, m.cell, m.cell, {.fill = m.colour, .fill_opacity = intensity, .stroke = "#ffffff"});
      if (m.decimals >= 0) {
        doc.text(cx + m.cell / 2, text_y, num(value, m.decimals),
                 {.size = kCellText, .anchor = "middle", .halo = true});
      }
    }
  }
  doc.rect(gx, gy, grid_w, grid_h, {.stroke = colour::grey, .stroke_width = 0.8});
  return l.size;
}

Size colour_scale(Document& doc, double x, double y, double height, double max, std::string_view label,
                  int decimals, std::string_view colour) {
  constexpr double kBarWidth = 14.0;
  const std::string id = "scale-" + colour_id(colour);
  doc.define(id, fmt::format(R"svg(<linearGradient id="{}" x1="0" y1="1" x2="0" y2="0">)svg"
                             R"svg(<stop offset="0" stop-color="{}" stop-opacity="0"/>)svg"
                             R"svg(<stop offset="1" stop-color="{}" stop-opacity="1"/></linearGradient>)svg",
                             id, colour, colour));
  doc.text(x, y - 8, label, {.size = kAxisSize, .fill = colour::grey});
  doc.rect(x, y, kBarWidth, height, {.fill = fmt::format("url(#{})", id), .stroke = colour::grey, .stroke_width = 0.8});
  double widest = 0.0;
  for (int k = 0; k <= 2; ++k) {
    const double fraction = k / 2.0, ty = y + height * (1.0 - fraction);
    const std::string text = num(max * fraction, decimals);
    doc.line(x + kBarWidth, ty, x + kBarWidth + 4, ty, colour::grey);
    doc.text(x + kBarWidth + 7, ty + 4, text, {.size = kLabelSize});
    widest = std::max(widest, text_width(text, kLabelSize));
  }
  return {std::max(kBarWidth + 7 + widest, text_width(label, kAxisSize)), height + 8};
}

void swatch(Document& doc, double x, double y, std::string_view colour, std::string_view label, double size) {
  doc.rect(x, y - size + 2, size, size, {.fill = colour, .corner = 2});
  doc.text(x + size + 5, y, label, {.size = 11.5});
}

// ---------------------------------------------------------------------------------------------

void add_option(cli_support::CommandLine& command_line, std::string& directory) {
  command_line.option("--svg", directory,
                      "also draw this lab's diagrams as SVG files into DIR (an existing directory); "
                      "scripts/regen-diagrams.sh uses it to refresh diagrams/")
      .type_name("DIR");
}

std::filesystem::path checked_directory(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(directory, ec);
  if (!fs::exists(status)) {
    throw minimodel::InputError(fmt::format(
        "--svg '{}': no such directory; create it first (mkdir -p '{}') or name another", directory, directory));
  }
  if (!fs::is_directory(status)) {
    throw minimodel::InputError(fmt::format("--svg '{}': not a directory; --svg takes the directory the "
                                            "diagrams are written into",
                                            directory));
  }
  return directory;
}

void write(const std::filesystem::path& directory, std::string_view name, const Document& doc) {
  const std::filesystem::path path = directory / std::string(name);
  write_file_atomically(path, doc.str());
  fmt::print(stderr, "wrote {}\n", path.string());
}

}  // namespace lab::svg
