// Checkpoints: one torch archive holding the method (backbone + heads), the
// online classifier, the optimiser state and the step, written atomically.
#pragma once

#include "gps/methods/method.h"

#include <torch/torch.h>

#include <string>

namespace gps {

struct CheckpointState {
  int64_t step = 0;
  int64_t epoch = 0;
  std::string config_yaml;
};

// Writes `path` via a temporary file and rename. `classifier` may be null.
void save_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                     torch::optim::Optimizer& optimizer, const CheckpointState& state);

// Loads the method weights (and state) of a checkpoint written by
// save_checkpoint into `method`, whose architecture must match. Throws
// gps::Error naming the file when it is missing or does not match.
CheckpointState load_checkpoint_weights(const std::string& path, torch::nn::Module& method);

}  // namespace gps
