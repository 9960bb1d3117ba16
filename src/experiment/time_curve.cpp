#include "gps/experiment/time_curve.h"

#include "gps/core/check.h"
#include "gps/experiment/results.h"
#include "gps/io/fs.h"
#include "gps/io/plot.h"
#include "gps/train/run_summary.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

namespace gps {

namespace fs = std::filesystem;

TimeCurve read_time_curve(const std::string& run_dir, const std::string& label) {
  TimeCurve c;
  c.label = label;
  c.run_dir = run_dir;
  const std::string metrics = (fs::path(run_dir) / "metrics.jsonl").string();
  const std::string summary_file = (fs::path(run_dir) / "summary.json").string();
  std::istringstream lines(read_file(metrics, "the run's metrics"));
  double knn_seconds = 0;
  int64_t line_no = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    GPS_CHECK(!j.is_discarded() && j.is_object(), metrics, ":", line_no, ": not a JSON object");
    const std::string event = j.value("event", "");
    GPS_CHECK(event != "resume", metrics, ":", line_no,
              ": the run was resumed, and each process starts its own clock; time to accuracy needs a run "
              "from one process");
    if (event != "knn") continue;
    GPS_CHECK(j.contains("run_seconds") && j.contains("seconds") && j.contains("knn_top1"), metrics, ":", line_no,
              ": a kNN record without run_seconds/seconds/knn_top1 (written by an older gps? run it again)");
    knn_seconds += j["seconds"].get<double>();
    c.points.push_back({(j["run_seconds"].get<double>() - knn_seconds) / 60.0, j["knn_top1"].get<double>(), false});
  }
  const RunSummary s = read_run_summary(summary_file);
  GPS_CHECK(!s.interrupted, summary_file, ": the run was interrupted; finish it first");
  GPS_CHECK(s.run_seconds >= 0, summary_file, ": no run_seconds (written by an older gps? run it again)");
  c.knn_minutes = knn_seconds / 60.0;
  c.total_minutes = (s.run_seconds - knn_seconds) / 60.0;
  if (s.eval.done && s.eval.linear_top1 >= 0) c.points.push_back({c.total_minutes, s.eval.linear_top1, true});
  return c;
}

double accuracy_at(const TimeCurve& curve, double minutes) {
  double best = std::numeric_limits<double>::quiet_NaN();
  for (const auto& p : curve.points)
    if (p.minutes <= minutes && !(p.top1 <= best)) best = p.top1;
  return best;
}

double minutes_to_reach(const TimeCurve& curve, double top1) {
  for (const auto& p : curve.points)
    if (p.top1 >= top1) return p.minutes;
  return std::numeric_limits<double>::quiet_NaN();
}

void save_time_curves_png(const std::string& path, const std::vector<TimeCurve>& curves, const std::string& title) {
  std::vector<PlotSeries> series;
  for (const auto& c : curves) {
    PlotSeries s{c.label, {}, {}};
    for (const auto& p : c.points) s.x.push_back(p.minutes), s.y.push_back(p.top1);
    series.push_back(std::move(s));
  }
  PlotOptions o;
  o.title = title;
  o.x_label = "minutes (wall clock: data, prior, table, training, final probe)";
  o.y_label = "test top-1 (%): kNN during training, linear probe last";
  o.width = 900;
  o.height = 520;
  save_line_plot(path, series, o);
}

std::string time_curves_table(const std::vector<TimeCurve>& curves, const std::vector<double>& minutes) {
  const auto pct = [](double v) { return std::isfinite(v) ? fixed_decimals(v, 2) : std::string("-"); };
  std::string t = "| recipe |";
  for (double m : minutes) t += str_cat(" top-1 by ", m, " min |");
  t += " final linear | ends at (min) | kNN curve cost (min) |\n|---|";
  for (size_t i = 0; i < minutes.size() + 3; ++i) t += "---:|";
  t += "\n";
  for (const auto& c : curves) {
    const bool linear = !c.points.empty() && c.points.back().linear;
    t += str_cat("| ", c.label, " |");
    for (double m : minutes) t += str_cat(" ", pct(accuracy_at(c, m)), " |");
    t += str_cat(" ", linear ? pct(c.points.back().top1) : std::string("-"), " | ", pct(c.total_minutes), " | ",
                 pct(c.knn_minutes), " |\n");
  }
  return t;
}

}  // namespace gps
