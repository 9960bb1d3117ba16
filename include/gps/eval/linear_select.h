// Hyperparameter selection of the offline linear probe on a validation split
// carved from the training features, then a refit on all of them.
#pragma once

#include "gps/eval/linear_probe.h"

#include <vector>

namespace gps {

struct LinearSelectOptions {
  LinearProbeOptions base;            // epochs, batch size, seed; lr / weight decay come from the grid
  std::vector<double> lrs;            // candidate lrs (non-empty)
  std::vector<double> weight_decays;  // candidate weight decays (non-empty)
  double val_fraction = EvalConfig{}.val_fraction;  // share of each class held out for validation, in (0, 1)
};

struct LinearSelectResult {
  double lr = 0, weight_decay = 0;    // the chosen pair
  double val_accuracy = 0;            // its validation accuracy, in [0, 1]
  std::vector<double> grid_val_accuracy;  // every pair, lr-major (lrs[i], weight_decays[j]) at i * |wd| + j
  int64_t fit_rows = 0, val_rows = 0;
  LinearProbeResult refit;            // the chosen pair refitted on all train rows, scored on test
};

// Class-stratified split of the rows of labels ([N] int64): from each class
// with n >= 2 rows, round(n * val_fraction) rows (at least 1, at most n - 1)
// go to validation; deterministic for a seed. Returns {fit rows, val rows}, each
// [*] int64 sorted ascending. Throws gps::Error for a fraction outside (0, 1)
// or when no class can give a validation row.
std::pair<torch::Tensor, torch::Tensor> stratified_val_split(const torch::Tensor& labels, double val_fraction,
                                                             uint64_t seed);

// Fits the probe for every (lr, weight decay) on the fit rows of train, keeps
// the pair with the best validation accuracy (ties: the first in grid order),
// refits it on all train rows and scores test. Shapes as linear_probe().
// Deterministic for opt.base.seed.
LinearSelectResult linear_probe_select(const torch::Tensor& train_x, const torch::Tensor& train_y,
                                       const torch::Tensor& test_x, const torch::Tensor& test_y, int64_t num_classes,
                                       const LinearSelectOptions& opt);

}  // namespace gps
