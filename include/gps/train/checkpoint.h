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

#include "gps/data/dataset.h"
#include "gps/methods/method.h"
#include "gps/methods/weights.h"  // latest_checkpoint, final_checkpoint
#include "gps/neighbors/neighbor_table.h"
#include "gps/train/loop_counters.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

struct CheckpointState {
  LoopCounters loop;            // step, lr scale, rollbacks, budget, probe counts (loop_counters.h)
  int64_t epoch = 0;            // epoch of the next step
  std::string config_yaml;      // the run's resolved config
  torch::Tensor rng_state;      // torch's default CPU generator (undefined: not saved)
  torch::Tensor device_rng_state;  // a CUDA run's device generator (undefined: a CPU run)
  NeighborTable table;          // the sampler's table when it was refreshed (ids undefined: none)
  // What the run trained on, checked by --resume ("" in checkpoints written
  // before these were recorded): the training images ("<name>@<hex>;n=N",
  // data_fingerprint()) and the initial table's fingerprint (prior, data,
  // neighbour options; "self" for plain SSL).
  std::string data_fingerprint, table_fingerprint;
};

// "<dataset name>@<16 hex digits of fingerprint(d)>;n=<images>": what a
// checkpoint records of the training images.
std::string data_fingerprint(const Dataset& d);

// A string entry of a checkpoint archive ("" when absent).
std::string read_string_entry(torch::serialize::InputArchive& root, const char* key);

// Writes `path` atomically. `classifier` may be null.
void save_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                     torch::optim::Optimizer& optimizer, const CheckpointState& state);

// Restores everything save_checkpoint wrote into modules and optimiser of the
// same architecture (classifier and optimizer may be null: the method and
// the counters only; methods/weights.h load_method_weights reads the method alone).
// Tensors are loaded onto the device `method` lives on, whichever device
// wrote the file; the returned table and RNG states are CPU tensors.
// Throws gps::Error naming the file when it is missing, corrupt or does not
// match (different model settings).
CheckpointState load_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                                torch::optim::Optimizer* optimizer);

// --- checkpoints inside a run directory ---

// Writes run_dir/checkpoints/step-<step>.pt, then points run_dir/LATEST at
// it, then deletes all but the newest `keep` periodic checkpoints (the
// step-0 one, written for NaN rollback, is always kept). Returns the path.
std::string save_run_checkpoint(const std::string& run_dir, int64_t keep, torch::nn::Module& method,
                                torch::nn::Module* classifier, torch::optim::Optimizer& optimizer,
                                const CheckpointState& state);

// Points run_dir/LATEST at `relative` (a file inside run_dir), atomically,
// with that file's CRC-32 and size (see latest_checkpoint).
void set_latest(const std::string& run_dir, const std::string& relative);

}  // namespace gps
