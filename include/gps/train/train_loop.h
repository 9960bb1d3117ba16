// The training loop: batch -> step -> settle -> log / evaluate / checkpoint,
// until the run's length (optim.epochs, or what optim.budget_minutes
// allows) or a stop request. Each policy is its own piece: the budget
// (budget.h), the NaN guard (step_monitor.h), the checkpoint cadence
// (checkpointer.h), the kNN curve (eval/periodic_knn.h), the log
// (run_log.h) and the clock (run_clock.h).
#pragma once

#include "gps/eval/periodic_knn.h"
#include "gps/train/batch_source.h"
#include "gps/train/budget.h"
#include "gps/train/checkpointer.h"
#include "gps/train/prefetcher.h"
#include "gps/train/run_clock.h"
#include "gps/train/run_setup.h"
#include "gps/train/step_monitor.h"

#include <optional>
#include <string>

namespace gps {

// The online probe's running accuracy over the current epoch, in %.
double probe_accuracy(const LoopCounters& c);

class TrainLoop {
 public:
  // Writes the initial checkpoint a NaN rollback needs (train.nan_policy=rollback).
  TrainLoop(RunSetup& run, RunClock& clock);

  struct End {
    bool interrupted = false;  // a stop request ended it before its length
    Settled settled;           // the last settle
  };
  End run();

  const Budget& budget() const { return budget_; }
  int64_t total_steps() const { return total_steps_; }
  // The state as a checkpoint holds it (the budget's clock saved with it).
  CheckpointState snapshot();
  const Checkpointer& checkpointer() const { return checkpointer_; }

 private:
  void begin_epoch(int64_t epoch, int64_t b);
  StepBatch next_batch(int64_t epoch, int64_t b);
  bool agree_stop(bool settle_due) const;
  void roll_back(const Settled& settled, int64_t done);
  void decide_budget(int64_t done);
  void log_settled(int64_t done, int64_t epoch, double lr, double images_per_s);
  void evaluate_knn(int64_t done);

  RunSetup& r_;
  TrainState& state_;
  const Schedule& sched_;
  RunClock& clock_;
  int64_t total_steps_;
  Budget budget_;
  Checkpointer checkpointer_;
  BatchSource batches_;
  StepMonitor monitor_;
  NanGuard nan_guard_;
  PeriodicKnn knn_;
  std::optional<Prefetcher> prefetcher_;  // batch b+1 made while step b computes (train.prefetch)
  int64_t cur_epoch_ = -1;
  torch::Tensor order_;                   // the current epoch's anchor order
  Settled settled_;
  std::string shown_;                     // the progress line's values, from the last settle
};

}  // namespace gps
