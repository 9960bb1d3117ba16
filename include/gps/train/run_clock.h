// The run's clock, one zero for every duration the trainer reports: the
// run's seconds (data, prior, table and evaluations included: the x axis of
// a time-to-accuracy curve, and the budget's clock, budget.h), and the
// loop's timed span, from which images/s and train_seconds come. The span
// leaves out the kNN curve's evaluations (eval.knn_every), and starts again
// where the loop starts again (a resume, a NaN rollback).
#pragma once

#include <chrono>
#include <cstdint>

namespace gps {

class RunClock {
 public:
  using Clock = std::chrono::steady_clock;

  RunClock() : start_(Clock::now()), span_start_(start_) {}

  Clock::time_point start() const { return start_; }
  // Seconds since the run started in this process.
  double run_seconds() const { return since(start_); }

  // Starts the timed span at step `step` (data waits from zero).
  void start_span(int64_t step);
  // Seconds the span does not count: an evaluation inside the loop.
  void exclude(double seconds) { excluded_ += seconds; }
  // Seconds of the span the loop waited for its next batch.
  void waited(double seconds) { data_wait_ += seconds; }

  double span_seconds() const { return since(span_start_) - excluded_; }
  int64_t span_first_step() const { return span_step_; }
  double data_wait_seconds() const { return data_wait_; }
  // Anchor images per second over the span, `done` steps done, `batch` images a step.
  double images_per_second(int64_t done, int64_t batch) const;

 private:
  static double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
  Clock::time_point start_, span_start_;
  int64_t span_step_ = 0;
  double excluded_ = 0, data_wait_ = 0;
};

}  // namespace gps
