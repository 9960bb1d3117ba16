// The standard evaluation of frozen features: offline linear probe and
// weighted kNN, trained on the train split and scored on the test split.
#pragma once

#include "gps/data/dataset.h"
#include "gps/eval/eval_config.h"

#include <nlohmann/json.hpp>

namespace gps {

struct EvalResult {
  bool done = false;
  std::string linear = "sgd-grid";  // the probe's protocol (eval.linear): sgd-grid | adam
  double linear_top1 = 0;        // offline linear probe, test split, in %
  double linear_train_top1 = 0;  // same probe on its training features, in %
  double knn_top1 = 0;           // weighted kNN (eval.knn_metric, exp(s/T)), test split, in %
  double recall_at_1 = 0;        // leave-one-out retrieval inside the test split (eval.knn_metric), in %
  double recall_at_5 = 0;
  double rankme = -1;            // RankMe (rankme.h) of the train features: their effective rank (-1: not measured)
  std::vector<double> linear_per_class;  // linear-probe test accuracy per class, in %
  std::string linear_select = "none";    // how the probe's lr / weight decay were chosen (eval.linear_select)
  double linear_lr = 0, linear_weight_decay = 0;  // the pair used for the reported probe
  double linear_val_top1 = -1;   // linear_select=val: validation accuracy of that pair, in % (-1: no selection)
  std::string knn_metric = "cosine";
  std::string protocol;          // eval_protocol() of the keys it was measured with ("" in older files)
  int64_t train_images = 0, test_images = 0, feature_dim = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
  // The inverse of to_json (done = true). A key an older file lacks keeps its
  // default; a value of the wrong type throws gps::Error naming `file`.
  static EvalResult from_json(const nlohmann::json& j, const std::string& file);
};

// The eval.* keys that decide the final figures, as one line ("linear=sgd-grid
// sgd_lr_grid=... knn_k=20 ..."): two evaluations with the same line are the
// same protocol (experiment/ re-evaluates cells whose line differs).
std::string eval_protocol(const EvalConfig& cfg);

// train_x: [N, D] features of `train` (labels required), test_x: [M, D]
// features of `test`. With cfg.linear = "sgd-grid" (the paper's protocol)
// or cfg.linear_select = "val" the probe's lr (and weight decay) are chosen
// on a validation split of train (linear_select.h) and the probe is refit on
// all of train. Deterministic for a seed and a
// thread count. Throws gps::Error when either split lacks labels.
EvalResult evaluate_features(const torch::Tensor& train_x, const Dataset& train, const torch::Tensor& test_x,
                             const Dataset& test, const EvalConfig& cfg, uint64_t seed);

}  // namespace gps
