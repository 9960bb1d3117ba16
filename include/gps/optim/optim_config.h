// The optim.* keys: optimiser and learning-rate schedule.
#pragma once

#include <cstdint>
#include <string>

namespace gps {

struct OptimConfig {
  std::string name = "sgd";     // sgd (momentum) | lars | adamw
  int64_t batch_size = 256;
  int64_t epochs = 100;           // with budget_minutes: the most the run may take
  // > 0: the run (data, prior, table, training, final evaluation; not the
  // eval.knn_every curve) ends within this many minutes of wall clock. The
  // number of steps is set from the speed of the first steps, then again
  // at every epoch end from the speed since (the cosine follows the new length).
  double budget_minutes = 0;
  double lr = 0.4;              // base lr, multiplied by batch_size/256 when scale_lr
  bool scale_lr = true;
  double momentum = 0.9;
  double weight_decay = 1e-4;   // on weights with >= 2 dims only
  // >= 0: the weight decay follows a cosine from weight_decay at step 0 to
  // this at the last step (DINO's schedule for ViTs); < 0: constant.
  double weight_decay_end = -1;
  double warmup_epochs = 10;
  double warmup_start_lr = 3e-5;
  double min_lr = 0.0;
  double classifier_lr = 0.1;   // online linear probe, also scaled by batch/256
  double eta = 0.02;            // LARS trust coefficient
  bool exclude_bias_n_norm = true;  // LARS: 1-D parameters get plain momentum SGD
};

// Checks among the optim.* keys (warm-up within the epochs, min_lr <= lr);
// throws gps::Error naming the keys.
void validate(const OptimConfig& cfg);

}  // namespace gps
