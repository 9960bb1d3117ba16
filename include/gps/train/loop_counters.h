// The loop's counters: what a run has done so far, kept in TrainState and
// saved in every checkpoint. One struct, one archive writer, one reader.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace gps {

struct LoopCounters {
  int64_t step = 0;           // optimiser steps done
  double lr_scale = 1.0;      // product of the NaN-rollback lr factors so far
  int64_t rollbacks = 0;      // NaN rollbacks so far
  int64_t budget_steps = 0;   // the run's length under optim.budget_minutes, last decided (0: not yet, or no budget)
  double budget_spent_s = 0;  // the budget's seconds spent when saved, all processes (0: none, or an older file)
  int64_t probe_correct = 0;  // online-probe counts of the current epoch (settled at the logging cadence)
  int64_t probe_seen = 0;

  bool operator==(const LoopCounters&) const = default;
};

// Writes the counters as entries of a checkpoint archive: step, lr_scale,
// rollbacks, budget_steps, budget_spent_s, probe_counts.
void write_counters(torch::serialize::OutputArchive& root, const LoopCounters& c);

// Reads them back. An entry an older checkpoint lacks keeps its default;
// an entry of the wrong size throws gps::Error naming `path`.
LoopCounters read_counters(torch::serialize::InputArchive& root, const std::string& path);

}  // namespace gps
