// One rate-limited progress line on stderr: step, epoch, named values,
// images/s and ETA.
#pragma once

#include <chrono>
#include <string>

namespace gps {

class Progress {
 public:
  Progress(std::string label, int64_t total_steps, bool enabled, double min_interval_s = 0.5);
  // Redraws when min_interval_s has passed since the last draw (or at the last step).
  void update(int64_t step, int64_t epoch, double images_per_s, const std::string& values);
  // Counts speed and ETA from `step` on (a resumed run starts mid-way).
  void rebase(int64_t step);
  // The run's length changed (optim.budget_minutes decided it).
  void set_total(int64_t total_steps) { total_ = total_steps; }
  // Ends the line (a terminal's line is redrawn in place until then).
  void finish();
  // Ends a line drawn in place, so that a message can follow; the next
  // update draws a new one.
  void break_line();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  double min_interval_;
  std::chrono::steady_clock::time_point start_, last_;
  int64_t first_ = 0;
  bool drawn_ = false;
  bool open_ = false;  // a terminal line drawn in place, not yet ended
};

// "1h02m", "3m07s", "12s".
std::string format_duration(double seconds);

}  // namespace gps
