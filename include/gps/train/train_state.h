// The training state: everything a run changes as it goes, and what its
// checkpoints hold. The model (method + online probe) and the optimiser
// state live on one torch::Device; the loop's counters on the host.
#pragma once

#include "gps/config/config.h"
#include "gps/methods/method.h"
#include "gps/neighbors/neighbor_table.h"
#include "gps/train/checkpoint.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace gps {

struct TrainState {
  Method method;
  torch::nn::Linear classifier{nullptr};  // online linear probe (null: none)
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  // Names of optimizer->param_groups(), in order: "weights" (>= 2-D, with
  // weight decay), "norms_biases" (1-D, none); "fixed_weights" and
  // "fixed_norms_biases" for the method's fixed_lr_modules() (the base lr,
  // never scheduled), when it has any; and "classifier" (the probe,
  // with its own lr).
  std::vector<std::string> group_names;
  torch::Device device{torch::kCPU};
  bool channels_last = false;  // what the run uses: cfg.train.channels_last unless the CPU cannot (layout_note)
  torch::ScalarType dtype = torch::kFloat32;  // weights and views (float64 under train.precision=fp64)
  std::string layout_note;  // why channels-last was asked for and not used ("" when it was not refused)

  LoopCounters loop;  // step, lr scale, rollbacks, budget, probe counts: saved in every checkpoint

  bool has_probe() const { return !classifier.is_empty(); }
  torch::nn::Module* classifier_module() const { return has_probe() ? classifier.ptr().get() : nullptr; }
  // Parameters whose gradients are averaged over ranks: the method's and the probe's.
  std::vector<torch::Tensor> trainable() const;
  // Sets the scheduled lr on every group but "classifier" and the "fixed_"
  // ones, which keep their own.
  void set_schedule_lr(double lr);
  // Sets the weight decay of the decayed groups ("weights", "fixed_weights")
  // (optim.weight_decay_end's schedule).
  void set_schedule_weight_decay(double wd);
};

// The method for `in_channels` images, the online probe over `num_classes`
// classes (0: none), and the optimiser (optim.name sgd | lars; parameter
// groups as in solo-learn), on `device`, in float64 under
// train.precision=fp64, channels-last when cfg.train.channels_last and the
// CPU's kernels allow it (channels_last_hazard; else contiguous, with the
// reason in layout_note). Weights are drawn from torch's CPU generator, so
// the same seed gives the same initial model on every device.
TrainState make_train_state(const Config& cfg, int64_t in_channels, int64_t num_classes, const torch::Device& device);

// The checkpoint of `s` (the epoch of the next step from steps_per_epoch;
// `refreshed` is the sampler's table when it was rebuilt during training, else null).
CheckpointState snapshot(const TrainState& s, const Config& cfg, int64_t steps_per_epoch,
                         const NeighborTable* refreshed);

// Restores `s` from `path` (loaded onto s.device, whatever device wrote it).
// A NaN rollback (`rollback`) keeps the state's own lr scale and rollback
// count. Returns the checkpoint's extra content (its table, if any).
CheckpointState restore(TrainState& s, const std::string& path, bool rollback);

// Writes the checkpoint of `s`: to `path`, or (path empty) as the run's next
// periodic checkpoint (save_run_checkpoint).
void save_state(const TrainState& s, const CheckpointState& snap, const std::string& run_dir, int64_t keep,
                const std::string& path = "");

}  // namespace gps
