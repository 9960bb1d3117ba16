// Small PNG charts drawn with OpenCV: line plots (training curves, accuracy
// against learning rate) and grouped bar charts (runtime). Axes, ticks,
// title and legend included; no external plotting dependency.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false;           // line plots: x on a log10 axis (all x must be > 0)
  int64_t width = 720, height = 440;  // pixels, each >= 200
};

struct PlotSeries {
  std::string label;            // legend entry ("" = none)
  std::vector<double> x, y;     // equal lengths; a non-finite y breaks the line
};

// [3, H, W] uint8 RGB image of the series as lines (with point markers when
// a series has at most 40 points). Throws gps::Error when there is nothing
// finite to draw, x and y differ in length, or log_x meets x <= 0.
torch::Tensor render_line_plot(const std::vector<PlotSeries>& series, const PlotOptions& opt);

struct BarChart {
  std::vector<std::string> groups;   // one cluster of bars per group (x axis)
  std::vector<std::string> series;   // one bar per series in each cluster (legend)
  std::vector<std::vector<double>> values;  // [series][group]; NaN = no bar
  std::vector<std::vector<double>> errors;  // empty, or [series][group] half-heights of error bars (NaN = none)
};

// [3, H, W] uint8 RGB image of the grouped bars, each labelled with its value.
// Throws gps::Error for inconsistent sizes or no finite value.
torch::Tensor render_bar_chart(const BarChart& chart, const PlotOptions& opt);

// The renderers above, written to `path` (.png) with save_png.
void save_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& opt);
void save_bar_chart(const std::string& path, const BarChart& chart, const PlotOptions& opt);

// `label` broken into lines of at most `max_width` pixels in the charts'
// tick font, after spaces, '/', '-', '_' or ','; a single word wider than
// that is cut. Bar charts wrap their group labels to the cluster width.
std::vector<std::string> wrap_label(const std::string& label, int max_width);
// Width in pixels of `s` in the tick font.
int label_width(const std::string& s);

// Up to about `max_ticks` evenly spaced round values (steps of 1, 2 or 5 x
// 10^k) covering [lo, hi]; used for the value axes.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);

}  // namespace gps
