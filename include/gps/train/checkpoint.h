// Checkpoints: one torch archive holding everything a run needs to continue
// exactly where it stopped: the method (backbone, heads, BYOL target, NNCLR
// queue, batch-norm statistics), the online classifier, the optimiser state
// (momentum buffers), the step, torch's global RNG state, the running probe
// counters, the lr scale left by NaN rollbacks, the neighbour table when the
// run refreshes it, and the resolved config.
//
// Files are written atomically: temporary file, fsync, rename. A run
// directory keeps its periodic checkpoints in checkpoints/step-<N>.pt and a
// LATEST file naming the newest complete one, written after the rename; a
// crash at any point leaves LATEST pointing at a complete checkpoint.
#pragma once

#include "gps/methods/method.h"
#include "gps/methods/weights.h"  // latest_checkpoint, final_checkpoint
#include "gps/neighbors/neighbor_table.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

struct CheckpointState {
  int64_t step = 0;             // optimiser steps done
  int64_t epoch = 0;            // epoch of the next step
  std::string config_yaml;      // the run's resolved config
  double lr_scale = 1.0;        // product of the NaN-rollback lr factors so far
  int64_t rollbacks = 0;        // NaN rollbacks so far
  int64_t budget_steps = 0;     // the run's length under optim.budget_minutes, last decided (0: none)
  double budget_spent_s = 0;    // the budget's seconds spent by this checkpoint (0: none, or an older file)
  int64_t probe_correct = 0;    // online-probe counters of the current epoch
  int64_t probe_seen = 0;
  torch::Tensor rng_state;      // torch's default CPU generator (undefined: not saved)
  torch::Tensor device_rng_state;  // a CUDA run's device generator (undefined: a CPU run)
  NeighborTable table;          // the sampler's table when it was refreshed (ids undefined: none)
};

// Writes `path` atomically. `classifier` may be null.
void save_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                     torch::optim::Optimizer& optimizer, const CheckpointState& state);

// Restores everything save_checkpoint wrote into modules and optimiser of the
// same architecture (classifier and optimizer may be null: weights only).
// Tensors are loaded onto the device `method` lives on, whichever device
// wrote the file; the returned table and RNG states are CPU tensors.
// Throws gps::Error naming the file when it is missing, corrupt or does not
// match (different model settings).
CheckpointState load_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                                torch::optim::Optimizer* optimizer);

// The method weights (and state) only.
CheckpointState load_checkpoint_weights(const std::string& path, torch::nn::Module& method);

// --- checkpoints inside a run directory ---

// Writes run_dir/checkpoints/step-<step>.pt, then points run_dir/LATEST at
// it, then deletes all but the newest `keep` periodic checkpoints (the
// step-0 one, written for NaN rollback, is always kept). Returns the path.
std::string save_run_checkpoint(const std::string& run_dir, int64_t keep, torch::nn::Module& method,
                                torch::nn::Module* classifier, torch::optim::Optimizer& optimizer,
                                const CheckpointState& state);

// The periodic checkpoints of a run, oldest first.
std::vector<std::string> list_run_checkpoints(const std::string& run_dir);

// Points run_dir/LATEST at `relative` (a file inside run_dir), atomically,
// with that file's CRC-32 and size (see latest_checkpoint).
void set_latest(const std::string& run_dir, const std::string& relative);

}  // namespace gps
