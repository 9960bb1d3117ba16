// Offline linear probe: a linear classifier trained on frozen features.
#pragma once

#include "gps/eval/eval_config.h"

#include <torch/torch.h>

#include <cstdint>

namespace gps {

// Defaults: the eval.linear_* keys.
struct LinearProbeOptions {
  // adam: on features standardised with the train mean / std (the default
  // probe); sgd: momentum 0.9 on the raw features (the paper's classifier).
  // Either way the lr is cosine-decayed to 0 over training.
  std::string optimizer = "adam";
  int64_t epochs = EvalConfig{}.linear_epochs;
  double lr = EvalConfig{}.linear_lr;
  double weight_decay = EvalConfig{}.linear_weight_decay;
  int64_t batch_size = EvalConfig{}.linear_batch_size;
  uint64_t seed = 0;            // shuffling and initialisation
};

struct LinearProbeResult {
  double train_accuracy = 0;    // in [0, 1]
  double test_accuracy = 0;
  torch::Tensor test_pred;      // [M] int64 predicted classes of the test rows
};

// Fits softmax regression on train_x [N, D] / train_y [N] (int64 in [0, C))
// (adam: after standardising each feature with the train mean/std), and reports
// top-1 accuracy on test_x [M, D] / test_y [M]. Deterministic for a seed.
LinearProbeResult linear_probe(const torch::Tensor& train_x, const torch::Tensor& train_y,
                               const torch::Tensor& test_x, const torch::Tensor& test_y, int64_t num_classes,
                               const LinearProbeOptions& opt = {});

}  // namespace gps
