// The standard evaluation of frozen features: offline linear probe and
// weighted kNN, trained on the train split and scored on the test split.
#pragma once

#include "gps/config/config.h"
#include "gps/data/dataset.h"

#include <nlohmann/json.hpp>

namespace gps {

struct EvalResult {
  bool done = false;
  double linear_top1 = 0;        // offline linear probe, test split, in %
  double linear_train_top1 = 0;  // same probe on its training features, in %
  double knn_top1 = 0;           // weighted kNN (cosine, exp(s/T)), test split, in %
  double recall_at_1 = 0;        // leave-one-out retrieval inside the test split (cosine), in %
  double recall_at_5 = 0;
  std::vector<double> linear_per_class;  // linear-probe test accuracy per class, in %
  int64_t train_images = 0, test_images = 0, feature_dim = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

// train_x: [N, D] features of `train` (labels required), test_x: [M, D]
// features of `test`. Throws gps::Error when either split lacks labels.
EvalResult evaluate_features(const torch::Tensor& train_x, const Dataset& train, const torch::Tensor& test_x,
                             const Dataset& test, const EvalConfig& cfg, uint64_t seed);

}  // namespace gps
