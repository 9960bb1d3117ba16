#include "gps/io/plot.h"

#include "gps/core/check.h"
#include "gps/io/image.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gps {

namespace {

// Tableau-10 colours, BGR.
const cv::Scalar kPalette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},  {189, 103, 148},
                               {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
const cv::Scalar kBlack(0, 0, 0), kGrid(225, 225, 225), kWhite(255, 255, 255);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kSmall = 0.42, kTitle = 0.55;
// Margins of the plotting area, in pixels.
constexpr int kLeft = 72, kRight = 20, kTop = 48, kBottom = 58;

cv::Scalar colour(size_t i) { return kPalette[i % kPaletteSize]; }

std::string fmt(double v) {
  if (std::abs(v) < 1e-12) return "0";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

enum class Align { left, centre, right };

// Draws `text` with its baseline at y, anchored at x by `align`.
void text(cv::Mat& img, const std::string& s, int x, int y, double scale, Align align,
          const cv::Scalar& c = kBlack) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, kFont, scale, 1, &base);
  if (align == Align::centre) x -= sz.width / 2;
  if (align == Align::right) x -= sz.width;
  cv::putText(img, s, {x, y}, kFont, scale, c, 1, cv::LINE_AA);
}

void check_options(const PlotOptions& opt) {
  GPS_CHECK(opt.width >= 200 && opt.height >= 200 && opt.width <= 10000 && opt.height <= 10000,
            "plot: width and height must be in [200, 10000] pixels, got ", opt.width, " x ", opt.height);
}

// The plotting area and the data range mapped onto it.
struct Frame {
  cv::Rect area;
  double x0, x1, y0, y1;
  int px(double x) const { return area.x + int(std::lround((x - x0) / (x1 - x0) * area.width)); }
  int py(double y) const { return area.y + area.height - int(std::lround((y - y0) / (y1 - y0) * area.height)); }
};

Frame make_frame(const PlotOptions& opt, double x0, double x1, double y0, double y1) {
  Frame f;
  f.area = cv::Rect(kLeft, kTop, int(opt.width) - kLeft - kRight, int(opt.height) - kTop - kBottom);
  f.x0 = x0, f.x1 = x1, f.y0 = y0, f.y1 = y1;
  return f;
}

cv::Mat canvas(const PlotOptions& opt) { return cv::Mat(int(opt.height), int(opt.width), CV_8UC3, kWhite); }

// Value axis (y): grid lines, ticks and labels; title and axis labels.
void draw_frame(cv::Mat& img, const Frame& f, const PlotOptions& opt) {
  for (double t : nice_ticks(f.y0, f.y1, 8)) {
    if (t < f.y0 || t > f.y1) continue;
    const int y = f.py(t);
    cv::line(img, {f.area.x, y}, {f.area.x + f.area.width, y}, kGrid, 1);
    cv::line(img, {f.area.x - 4, y}, {f.area.x, y}, kBlack, 1);
    text(img, fmt(t), f.area.x - 7, y + 4, kSmall, Align::right);
  }
  cv::rectangle(img, f.area, kBlack, 1);
  text(img, opt.title, int(opt.width) / 2, 24, kTitle, Align::centre);
  text(img, opt.y_label, 8, kTop - 8, kSmall, Align::left);
  text(img, opt.x_label, f.area.x + f.area.width / 2, int(opt.height) - 12, kSmall, Align::centre);
}

void draw_x_tick(cv::Mat& img, const Frame& f, int x, const std::string& label) {
  const int y = f.area.y + f.area.height;
  cv::line(img, {x, y}, {x, y + 4}, kBlack, 1);
  text(img, label, x, y + 19, kSmall, Align::centre);
}

constexpr int kLineStep = 14;  // pixels between the lines of a wrapped tick label

// A tick label as lines (wrap_label), centred under x.
void draw_x_tick(cv::Mat& img, const Frame& f, int x, const std::vector<std::string>& lines) {
  const int y = f.area.y + f.area.height;
  cv::line(img, {x, y}, {x, y + 4}, kBlack, 1);
  for (size_t i = 0; i < lines.size(); ++i) text(img, lines[i], x, y + 19 + int(i) * kLineStep, kSmall, Align::centre);
}

// Legend box in the top-right corner of the plotting area; `bars` draws
// filled squares instead of line segments.
void draw_legend(cv::Mat& img, const Frame& f, const std::vector<std::string>& labels, bool bars) {
  int w = 0, n = 0;
  for (const auto& l : labels) {
    if (l.empty()) continue;
    int base = 0;
    w = std::max(w, cv::getTextSize(l, kFont, kSmall, 1, &base).width);
    ++n;
  }
  if (n == 0) return;
  const int row = 18, box_w = w + 40, box_h = n * row + 8;
  const cv::Rect box(f.area.x + f.area.width - box_w - 6, f.area.y + 6, box_w, box_h);
  cv::rectangle(img, box, kWhite, cv::FILLED);
  cv::rectangle(img, box, cv::Scalar(160, 160, 160), 1);
  int y = box.y + 4 + row / 2;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].empty()) continue;
    if (bars)
      cv::rectangle(img, cv::Rect(box.x + 8, y - 5, 18, 10), colour(i), cv::FILLED);
    else
      cv::line(img, {box.x + 6, y}, {box.x + 28, y}, colour(i), 2, cv::LINE_AA);
    text(img, labels[i], box.x + 34, y + 5, kSmall, Align::left);
    y += row;
  }
}

torch::Tensor to_tensor(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  auto t = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8);
  return t.permute({2, 0, 1}).contiguous().clone();
}

// Pixels the legend box takes at the top of the plotting area (0 without labels).
int legend_band(const std::vector<std::string>& labels) {
  int n = 0;
  for (const auto& l : labels) n += !l.empty();
  return n ? n * 18 + 16 : 0;
}

// Raises hi so that the top `band` pixels of the plotting area stay free of data.
double raise_for_legend(double lo, double hi, int band, const PlotOptions& opt) {
  const int h = int(opt.height) - kTop - kBottom;
  if (band <= 0 || band >= h) return hi;
  return hi + (hi - lo) * double(band) / double(h - band);
}

// [lo, hi] widened by 5% each side (or by 1 when empty) so nothing sits on the frame.
std::pair<double, double> padded(double lo, double hi) {
  if (!(hi > lo)) {
    const double d = std::max(1.0, std::abs(lo) * 0.05);
    return {lo - d, hi + d};
  }
  const double d = 0.05 * (hi - lo);
  return {lo - d, hi + d};
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  GPS_CHECK(std::isfinite(lo) && std::isfinite(hi) && hi >= lo && max_ticks >= 2,
            "nice_ticks: expected finite lo <= hi and max_ticks >= 2, got ", lo, ", ", hi, ", ", max_ticks);
  if (hi == lo) return {lo};
  const double raw = (hi - lo) / double(max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step)
    out.push_back(std::abs(t) < 1e-12 * step ? 0.0 : t);
  return out;
}

torch::Tensor render_line_plot(const std::vector<PlotSeries>& series, const PlotOptions& opt) {
  check_options(opt);
  auto tx = [&](double x) { return opt.log_x ? std::log10(x) : x; };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  std::vector<double> xs;  // distinct x values, for the ticks of a log axis
  for (const auto& s : series) {
    GPS_CHECK(s.x.size() == s.y.size(), "plot '", opt.title, "': series '", s.label, "' has ", s.x.size(),
              " x values and ", s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) continue;
      GPS_CHECK(!opt.log_x || s.x[i] > 0, "plot '", opt.title, "': log x axis needs x > 0, series '", s.label,
                "' has ", s.x[i]);
      x0 = std::min(x0, tx(s.x[i])), x1 = std::max(x1, tx(s.x[i]));
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
      xs.push_back(s.x[i]);
    }
  }
  GPS_CHECK(std::isfinite(x0), "plot '", opt.title, "': no finite point to draw");
  const auto [px0, px1] = padded(x0, x1);
  auto [py0, py1] = padded(y0, y1);
  std::vector<std::string> labels;
  for (const auto& s : series) labels.push_back(s.label);
  py1 = raise_for_legend(py0, py1, legend_band(labels), opt);
  cv::Mat img = canvas(opt);
  const Frame f = make_frame(opt, px0, px1, py0, py1);
  draw_frame(img, f, opt);
  // x ticks: round values on a linear axis; on a log axis the data's own x
  // values when few, else the decades.
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  if (!opt.log_x) {
    for (double t : nice_ticks(px0, px1, 7))
      if (t >= px0 && t <= px1) draw_x_tick(img, f, f.px(t), fmt(t));
  } else if (xs.size() <= 8) {
    for (double x : xs) draw_x_tick(img, f, f.px(std::log10(x)), fmt(x));
  } else {
    for (double d = std::ceil(px0); d <= px1; d += 1) draw_x_tick(img, f, f.px(d), fmt(std::pow(10.0, d)));
  }
  cv::Mat plot_area = img(f.area);
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& s = series[si];
    const bool markers = s.x.size() <= 40;
    cv::Point prev;
    bool have_prev = false;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) {
        have_prev = false;
        continue;
      }
      // Points in plot-area coordinates, drawn on the sub-image so lines are clipped to it.
      const cv::Point p(f.px(tx(s.x[i])) - f.area.x, f.py(s.y[i]) - f.area.y);
      if (have_prev) cv::line(plot_area, prev, p, colour(si), 2, cv::LINE_AA);
      if (markers) cv::circle(plot_area, p, 3, colour(si), cv::FILLED, cv::LINE_AA);
      prev = p;
      have_prev = true;
    }
  }
  cv::rectangle(img, f.area, kBlack, 1);
  draw_legend(img, f, labels, false);
  return to_tensor(img);
}

torch::Tensor render_bar_chart(const BarChart& chart, const PlotOptions& opt) {
  check_options(opt);
  const size_t G = chart.groups.size(), S = chart.series.size();
  GPS_CHECK(G > 0 && S > 0, "bar chart '", opt.title, "': needs at least one group and one series");
  GPS_CHECK(chart.values.size() == S, "bar chart '", opt.title, "': values must be [series][group]");
  GPS_CHECK(chart.errors.empty() || chart.errors.size() == S, "bar chart '", opt.title,
            "': errors must be empty or [series][group]");
  double lo = 0, hi = -INFINITY;
  for (size_t s = 0; s < S; ++s) {
    GPS_CHECK(chart.values[s].size() == G, "bar chart '", opt.title, "': series '", chart.series[s], "' has ",
              chart.values[s].size(), " values for ", G, " groups");
    GPS_CHECK(chart.errors.empty() || chart.errors[s].size() == G, "bar chart '", opt.title,
              "': errors of series '", chart.series[s], "' must have ", G, " values");
    for (size_t g = 0; g < G; ++g) {
      const double v = chart.values[s][g];
      if (!std::isfinite(v)) continue;
      const double e = chart.errors.empty() || !std::isfinite(chart.errors[s][g]) ? 0 : chart.errors[s][g];
      lo = std::min(lo, v - e), hi = std::max(hi, v + e);
    }
  }
  GPS_CHECK(std::isfinite(hi), "bar chart '", opt.title, "': no finite value to draw");
  if (hi <= lo) hi = lo + 1;
  hi += 0.12 * (hi - lo);  // room for the value labels
  hi = raise_for_legend(lo, hi, legend_band(chart.series), opt);
  cv::Mat img = canvas(opt);
  Frame f = make_frame(opt, 0, double(G), lo, hi);
  const double group_w = double(f.area.width) / double(G);
  // Group labels wrapped to their cluster's width, so neighbours never
  // overlap; the plotting area gives up the height the extra lines need.
  std::vector<std::vector<std::string>> tick_lines;
  size_t most_lines = 1;
  for (const auto& g : chart.groups) {
    tick_lines.push_back(wrap_label(g, std::max(24, int(group_w) - 6)));
    most_lines = std::max(most_lines, tick_lines.back().size());
  }
  f.area.height -= int(most_lines - 1) * kLineStep;
  GPS_CHECK(f.area.height >= 40, "bar chart '", opt.title, "': group labels need ", most_lines,
            " lines; raise the height or shorten them");
  draw_frame(img, f, opt);
  const double bar_w = group_w * 0.8 / double(S);
  for (size_t g = 0; g < G; ++g) {
    const int centre = f.area.x + int(std::lround((double(g) + 0.5) * group_w));
    draw_x_tick(img, f, centre, tick_lines[g]);
    for (size_t s = 0; s < S; ++s) {
      const double v = chart.values[s][g];
      if (!std::isfinite(v)) continue;
      const int xa = f.area.x + int(std::lround(double(g) * group_w + 0.1 * group_w + double(s) * bar_w));
      const int xb = xa + std::max(1, int(std::lround(bar_w)) - 2);
      const int ya = f.py(std::max(v, 0.0)), yb = f.py(std::min(v, 0.0));
      cv::rectangle(img, cv::Rect(cv::Point(xa, ya), cv::Point(xb, std::max(yb, ya + 1))), colour(s), cv::FILLED);
      int label_y = ya - 4;
      if (!chart.errors.empty() && std::isfinite(chart.errors[s][g]) && chart.errors[s][g] > 0) {
        const int xm = (xa + xb) / 2, e_hi = f.py(v + chart.errors[s][g]), e_lo = f.py(v - chart.errors[s][g]);
        cv::line(img, {xm, e_hi}, {xm, e_lo}, kBlack, 1);
        cv::line(img, {xm - 3, e_hi}, {xm + 3, e_hi}, kBlack, 1);
        cv::line(img, {xm - 3, e_lo}, {xm + 3, e_lo}, kBlack, 1);
        label_y = std::min(label_y, e_hi - 4);
      }
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.3g", v);
      text(img, buf, (xa + xb) / 2, label_y, 0.36, Align::centre);
    }
  }
  if (lo < 0) cv::line(img, {f.area.x, f.py(0)}, {f.area.x + f.area.width, f.py(0)}, kBlack, 1);
  draw_legend(img, f, chart.series, true);
  return to_tensor(img);
}

int label_width(const std::string& s) {
  int base = 0;
  return cv::getTextSize(s, kFont, kSmall, 1, &base).width;
}

std::vector<std::string> wrap_label(const std::string& label, int max_width) {
  // Break after spaces, '/', '-', '_' and ','; a word longer than the width
  // is cut where it overflows.
  std::vector<std::string> words;
  std::string cur;
  for (char c : label) {
    cur += c;
    if (c == ' ' || c == '/' || c == '-' || c == '_' || c == ',') words.push_back(cur), cur.clear();
  }
  if (!cur.empty()) words.push_back(cur);
  std::vector<std::string> lines;
  std::string line;
  auto trimmed = [](std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  };
  for (std::string w : words) {
    if (!line.empty() && label_width(trimmed(line + w)) > max_width) lines.push_back(trimmed(line)), line.clear();
    while (label_width(trimmed(w)) > max_width && w.size() > 1) {  // one word wider than the space: cut it
      size_t n = 1;
      while (n < w.size() && label_width(w.substr(0, n + 1)) <= max_width) ++n;
      lines.push_back(w.substr(0, n));
      w = w.substr(n);
    }
    line += w;
  }
  if (!trimmed(line).empty()) lines.push_back(trimmed(line));
  if (lines.empty()) lines.push_back("");
  return lines;
}

void save_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opt) {
  save_png(path, render_line_plot(series, opt));
}

void save_bar_chart(const std::string& path, const BarChart& chart, const PlotOptions& opt) {
  save_png(path, render_bar_chart(chart, opt));
}

}  // namespace gps
