// What the host learns of the steps at a settle, the loop's one wait for
// the device: the loss and its components of the last step, whether any
// step since the last settle had a non-finite loss, and the online probe's
// counts; and train.nan_policy, what the loop does about a non-finite loss.
#pragma once

#include "gps/config/config.h"
#include "gps/train/train_state.h"
#include "gps/train/train_step.h"

#include <map>
#include <string>

namespace gps {

namespace dist {
class Group;
}

// What the host knows of the steps since the last settle.
struct Settled {
  bool finite = true;
  int64_t first_bad_step = -1;  // this rank's first step with a non-finite loss (-1: none here)
  double loss = 0, probe_loss = 0;
  std::map<std::string, double> logs;
};

// Step statistics kept on the device between reads: the first step whose
// loss was not finite, and the probe's correct predictions. settle() reads
// them (and, with several processes, agrees on them over all ranks).
class StepMonitor {
 public:
  explicit StepMonitor(const torch::Device& device);
  // After step `step`: no host wait.
  void record(const StepStats& st, int64_t step);
  // Waits for the device (and, with NCCL, for the queued collectives), reads
  // the statistics, and adds the settled probe counts to s.loop.probe_correct.
  Settled settle(TrainState& s, dist::Group* group);
  void reset();

 private:
  torch::Tensor first_bad_, correct_;
  StepStats last_;
};

// train.nan_policy. A settle that finds a non-finite loss either stops the
// run, naming the step and the terms that diverged, or rolls back to a
// checkpoint with the lr lowered. Each further rollback in a row goes one
// checkpoint older: a run that diverges again before its next checkpoint
// may have written damaged weights into the newest one.
class NanGuard {
 public:
  explicit NanGuard(const TrainConfig& cfg) : cfg_(cfg) {}
  // "non-finite loss at step 12 (epoch 1); at step 15: loss = nan;
  // non-finite components: nt_xent = nan" (`done`: steps done at the settle).
  static std::string what(const Settled& s, int64_t done, int64_t steps_per_epoch);
  // The checkpoint of `run_dir` to roll back to, or "" when the run stops
  // (policy stop, no checkpoint, or train.nan_max_rollbacks reached).
  std::string rollback_to(const std::string& run_dir, int64_t rollbacks_so_far) const;
  void rolled_back() { ++in_a_row_; }
  void checkpointed() { in_a_row_ = 0; }
  // Throws gps::Error: `what` and the hint of the policy.
  [[noreturn]] void stop(const std::string& what) const;

 private:
  TrainConfig cfg_;
  int64_t in_a_row_ = 0;
};

}  // namespace gps
