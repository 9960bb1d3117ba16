// kNN accuracy of the backbone while it trains: every eval.knn_every epochs
// the test split is classified from the train split's features, giving a
// learning curve of the representation in metrics.jsonl, with the train
// features' RankMe; on unlabeled data the RankMe alone.
#pragma once

#include "gps/data/dataset.h"
#include "gps/data/registry.h"
#include "gps/eval/eval_config.h"
#include "gps/models/backbone.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace gps {

// One kNN evaluation of `backbone` (eval mode, no gradients, no random
// numbers drawn; its train/eval mode is restored): features of every image of
// train and test, then knn_accuracy with cfg.knn_k / knn_temperature /
// knn_metric. Returns {"event": "knn", "knn_top1": % , "knn_k", "knn_metric",
// "rankme" (of the train features, rankme.h), "seconds"}, and with an online
// probe (the trainer's linear classifier) "online_probe_test_top1": its
// accuracy on the held-out test images, in %. Throws gps::Error when a split lacks labels.
nlohmann::json periodic_knn(Backbone backbone, const Dataset& train, const Dataset& test, const EvalConfig& cfg,
                            torch::nn::Linear probe = torch::nn::Linear{nullptr});

// Top-1 accuracy in [0, 1] of a linear classifier on features [N, D] with labels [N]
// (no gradients; the features move to the classifier's device).
double linear_classifier_accuracy(torch::nn::Linear probe, const torch::Tensor& features, const torch::Tensor& labels);

// The label-free record of unlabeled data: {"event": "rankme", "rankme"
// (of the train features), "seconds"}.
nlohmann::json periodic_rankme(Backbone backbone, const Dataset& train);

// The trainer's side: decides when an evaluation is due, and evaluates on
// `test` (the trainer loads it in its setup) or, when that is null, on the
// test split loaded once, on first use.
class PeriodicKnn {
 public:
  PeriodicKnn(const DataConfig& data, const EvalConfig& eval, const Dataset* test = nullptr)
      : data_(data), eval_(eval), given_(test) {}
  // True after the last step of every eval.knn_every-th epoch (`step` steps done).
  bool due(int64_t step, int64_t steps_per_epoch) const;
  // periodic_knn() (periodic_rankme() when train has no labels) plus "step"
  // and "epoch" (epochs done), ready for RunDir::log_metrics.
  nlohmann::json run(Backbone backbone, const Dataset& train, int64_t step, int64_t steps_per_epoch,
                     torch::nn::Linear probe = torch::nn::Linear{nullptr});

 private:
  DataConfig data_;
  EvalConfig eval_;
  const Dataset* given_;
  std::optional<Dataset> test_;
};

}  // namespace gps
