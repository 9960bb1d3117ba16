// Time to accuracy: a run's accuracy against wall-clock minutes, read back
// from its run directory, for comparing recipes under a time budget
// (bench/time_to_accuracy.sh).
//
// The points are the kNN evaluations during training (eval.knn_every; each
// record carries "run_seconds", the process's wall clock since `gps train`
// started, data, prior and table included) and, last, the final linear probe
// (summary.json's eval.linear_top1 at its "run_seconds"). The minutes exclude
// the curve's own kNN evaluations (their "seconds"), so a curve shows what
// the recipe costs when it is run without the curve.
#pragma once

#include <string>
#include <vector>

namespace gps {

struct TimePoint {
  double minutes = 0;  // wall clock since the run started, without the kNN evaluations before it
  double top1 = 0;     // accuracy on the test split, in %
  bool linear = false; // the final linear probe (else a kNN evaluation)
};

struct TimeCurve {
  std::string label, run_dir;
  std::vector<TimePoint> points;  // in time order; the linear probe last when the run finished
  double total_minutes = 0;       // end of the run (the last point), without the kNN evaluations
  double knn_minutes = 0;         // what the curve's kNN evaluations took, excluded above
};

// Reads run_dir/metrics.jsonl and run_dir/summary.json. Throws gps::Error,
// naming the file, when either is missing or a kNN record has no
// run_seconds, and when the run was resumed (the clock restarts with each
// process, so a resumed run has no single time axis) or interrupted.
TimeCurve read_time_curve(const std::string& run_dir, const std::string& label);

// The best accuracy a curve shows by `minutes` (NaN when it has no point by then).
double accuracy_at(const TimeCurve& curve, double minutes);
// The first minute at which the curve reaches `top1` % (NaN when it never does).
double minutes_to_reach(const TimeCurve& curve, double top1);

// A PNG of the curves on one figure: top-1 (%) against minutes (the final
// linear probe is each curve's last point).
void save_time_curves_png(const std::string& path, const std::vector<TimeCurve>& curves, const std::string& title);

// A Markdown table: one row per curve, the accuracy at each of `minutes`,
// the final linear probe and when the run ended.
std::string time_curves_table(const std::vector<TimeCurve>& curves, const std::vector<double>& minutes);

}  // namespace gps
