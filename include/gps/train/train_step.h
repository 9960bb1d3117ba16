// One training step: the method's loss on a pair of views (under autocast
// for train.precision=bf16), the online probe, backward, gradient averaging
// over ranks, the optimiser update and the method's after-step hook.
#pragma once

#include "gps/augment/views.h"
#include "gps/core/precision.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/train_state.h"

#include <map>
#include <string>

namespace gps {

namespace dist {
class Group;
}

// One step's input, on the state's device.
struct StepBatch {
  PairBatch pairs;        // host: the step's anchors, positives and epoch positions
  Views views;            // the augmentation's views (views[0]: the anchors', views[1]: the positives' today)
  torch::Tensor labels;   // [B] int64 anchor labels for the online probe (undefined: no probe)
};

struct StepOptions {
  Precision precision = Precision::fp32;
  double lr = 0;              // the scheduled lr of this step
  double weight_decay = -1;   // >= 0: the scheduled weight decay of this step (optim.weight_decay_end); < 0: as set
  double progress_after = 0;  // training progress in [0, 1] after this step (BYOL's EMA rate)
  dist::Group* group = nullptr;  // several processes: gradients averaged before the update
};

// Device scalars: reading them waits for the device, so the loop reads them
// only at its logging cadence.
struct StepStats {
  torch::Tensor loss;           // float32: the SSL loss
  torch::Tensor probe_loss;     // float32: the online probe's cross-entropy (undefined: no probe)
  torch::Tensor probe_correct;  // int64: probe predictions that were right (undefined: no probe)
  torch::Tensor finite;         // bool: loss and probe loss are finite
  std::map<std::string, torch::Tensor> logs;  // the method's named scalars
};

// Runs one step on `s` and increments s.loop.step. No host synchronisation.
StepStats train_step(TrainState& s, const StepBatch& batch, const StepOptions& opt);

}  // namespace gps
