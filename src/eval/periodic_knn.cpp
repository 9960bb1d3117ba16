#include "gps/eval/periodic_knn.h"

#include "gps/core/check.h"
#include "gps/data/registry.h"
#include "gps/eval/knn.h"
#include "gps/eval/rankme.h"
#include "gps/models/features.h"

#include <chrono>

namespace gps {

double linear_classifier_accuracy(torch::nn::Linear probe, const torch::Tensor& features, const torch::Tensor& labels) {
  GPS_CHECK(features.dim() == 2 && labels.dim() == 1 && features.size(0) == labels.size(0),
            "linear_classifier_accuracy: features [N, D] and labels [N] expected, got ", features.sizes(), " and ",
            labels.sizes());
  torch::NoGradGuard no_grad;
  const auto device = probe->weight.device();
  const auto pred = probe->forward(features.to(device, probe->weight.scalar_type())).argmax(1);  // float64 under fp64
  return pred.eq(labels.to(device)).to(torch::kFloat64).mean().item<double>();
}

nlohmann::json periodic_knn(Backbone backbone, const Dataset& train, const Dataset& test, const EvalConfig& cfg,
                            torch::nn::Linear probe) {
  GPS_CHECK(train.has_labels() && test.has_labels(), "eval.knn_every needs labels on the train and test splits (",
            train.name, ", ", test.name, "); set eval.knn_every=0");
  const auto t0 = std::chrono::steady_clock::now();
  const auto train_x = extract_features(backbone, train);
  const auto test_x = extract_features(backbone, test);
  const int64_t classes = std::max(train.num_classes, test.num_classes);
  const double acc = knn_accuracy(train_x, train.labels, test_x, test.labels, cfg.knn_k, cfg.knn_temperature, classes,
                                  cfg.knn_metric);
  nlohmann::json rec = {{"event", "knn"}, {"knn_top1", 100.0 * acc}, {"knn_k", cfg.knn_k},
                        {"knn_metric", cfg.knn_metric}, {"rankme", rankme(train_x)}};
  if (!probe.is_empty()) rec["online_probe_test_top1"] = 100.0 * linear_classifier_accuracy(probe, test_x, test.labels);
  rec["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rec;
}

nlohmann::json periodic_rankme(Backbone backbone, const Dataset& train) {
  const auto t0 = std::chrono::steady_clock::now();
  const double r = rankme(extract_features(backbone, train));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {{"event", "rankme"}, {"rankme", r}, {"seconds", seconds}};
}

bool PeriodicKnn::due(int64_t step, int64_t steps_per_epoch) const {
  if (eval_.knn_every <= 0 || steps_per_epoch <= 0 || step <= 0 || step % steps_per_epoch != 0) return false;
  return (step / steps_per_epoch) % eval_.knn_every == 0;
}

nlohmann::json PeriodicKnn::run(Backbone backbone, const Dataset& train, int64_t step, int64_t steps_per_epoch,
                                torch::nn::Linear probe) {
  nlohmann::json rec;
  if (!train.has_labels()) {
    rec = periodic_rankme(backbone, train);
  } else {
    if (!given_ && !test_) test_ = load_dataset(data_, "test");
    rec = periodic_knn(backbone, train, given_ ? *given_ : *test_, eval_, probe);
  }
  rec["step"] = step;
  rec["epoch"] = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
  return rec;
}

}  // namespace gps
