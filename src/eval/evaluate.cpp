#include "gps/eval/evaluate.h"

#include "gps/core/check.h"
#include "gps/eval/knn.h"
#include "gps/eval/linear_probe.h"
#include "gps/eval/linear_select.h"
#include "gps/eval/rankme.h"
#include "gps/eval/retrieval.h"

#include <chrono>

namespace gps {

nlohmann::json EvalResult::to_json() const {
  return {{"linear", linear}, {"linear_top1", linear_top1}, {"linear_train_top1", linear_train_top1}, {"knn_top1", knn_top1},
          {"recall_at_1", recall_at_1}, {"recall_at_5", recall_at_5}, {"rankme", rankme},
          {"linear_per_class", linear_per_class},
          {"linear_select", linear_select}, {"linear_lr", linear_lr}, {"linear_weight_decay", linear_weight_decay},
          {"linear_val_top1", linear_val_top1}, {"knn_metric", knn_metric}, {"protocol", protocol},
          {"train_images", train_images}, {"test_images", test_images}, {"feature_dim", feature_dim},
          {"seconds", seconds}};
}

EvalResult EvalResult::from_json(const nlohmann::json& j, const std::string& file) {
  GPS_CHECK(j.is_object(), file, ": \"eval\" is not a JSON object");
  EvalResult r;
  r.done = true;
  try {
    r.linear_top1 = j.value("linear_top1", r.linear_top1);
    r.linear_train_top1 = j.value("linear_train_top1", r.linear_train_top1);
    r.knn_top1 = j.value("knn_top1", r.knn_top1);
    r.recall_at_1 = j.value("recall_at_1", r.recall_at_1);
    r.recall_at_5 = j.value("recall_at_5", r.recall_at_5);
    r.rankme = j.value("rankme", r.rankme);
    r.linear_per_class = j.value("linear_per_class", r.linear_per_class);
    r.linear = j.value("linear", std::string("adam"));  // files before eval.linear: the Adam probe
    r.linear_select = j.value("linear_select", r.linear_select);
    r.linear_lr = j.value("linear_lr", r.linear_lr);
    r.linear_weight_decay = j.value("linear_weight_decay", r.linear_weight_decay);
    r.linear_val_top1 = j.value("linear_val_top1", r.linear_val_top1);
    r.knn_metric = j.value("knn_metric", r.knn_metric);
    r.protocol = j.value("protocol", std::string());
    r.train_images = j.value("train_images", r.train_images);
    r.test_images = j.value("test_images", r.test_images);
    r.feature_dim = j.value("feature_dim", r.feature_dim);
    r.seconds = j.value("seconds", r.seconds);
  } catch (const nlohmann::json::exception& e) {
    GPS_FAIL(file, ": \"eval\" has a value of the wrong type: ", e.what());
  }
  return r;
}

std::string eval_protocol(const EvalConfig& c) {
  std::string s = str_cat("linear=", c.linear, " linear_epochs=", c.linear_epochs, " linear_batch_size=",
                          c.linear_batch_size, " val_fraction=", c.val_fraction);
  if (c.linear == "sgd-grid")
    s += " sgd_lr_grid=" + c.sgd_lr_grid;
  else if (c.linear_select == "val")
    s += " linear_select=val linear_lr_grid=" + c.linear_lr_grid + " linear_wd_grid=" + c.linear_wd_grid;
  else
    s += str_cat(" linear_lr=", c.linear_lr, " linear_weight_decay=", c.linear_weight_decay);
  return s + str_cat(" knn_k=", c.knn_k, " knn_temperature=", c.knn_temperature, " knn_metric=", c.knn_metric,
                     " features=", c.features);
}

EvalResult evaluate_features(const torch::Tensor& train_x, const Dataset& train, const torch::Tensor& test_x,
                             const Dataset& test, const EvalConfig& cfg, uint64_t seed) {
  GPS_CHECK(train.has_labels(), "evaluation needs labels on the train split (", train.name, ")");
  GPS_CHECK(test.has_labels(), "evaluation needs labels on the test split (", test.name, ")");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t C = std::max(train.num_classes, test.num_classes);
  EvalResult r;
  r.protocol = eval_protocol(cfg);
  LinearProbeOptions lp;
  lp.epochs = cfg.linear_epochs;
  lp.lr = cfg.linear_lr;
  lp.weight_decay = cfg.linear_weight_decay;
  lp.batch_size = cfg.linear_batch_size;
  lp.seed = seed;
  LinearProbeResult probe;
  GPS_CHECK(cfg.linear == "adam" || cfg.linear == "sgd-grid", "eval.linear must be adam or sgd-grid, got '",
            cfg.linear, "'");
  r.linear = cfg.linear;
  r.linear_select = cfg.linear == "sgd-grid" ? "val" : cfg.linear_select;
  if (r.linear_select == "val") {
    LinearSelectOptions so;
    so.base = lp;
    if (cfg.linear == "sgd-grid") {
      so.base.optimizer = "sgd";
      so.lrs = parse_number_list("eval.sgd_lr_grid", cfg.sgd_lr_grid);
      so.weight_decays = {0.0};
    } else {
      so.lrs = parse_number_list("eval.linear_lr_grid", cfg.linear_lr_grid);
      so.weight_decays = parse_number_list("eval.linear_wd_grid", cfg.linear_wd_grid);
    }
    so.val_fraction = cfg.val_fraction;
    auto sel = linear_probe_select(train_x, train.labels, test_x, test.labels, C, so);
    probe = std::move(sel.refit);
    r.linear_lr = sel.lr;
    r.linear_weight_decay = sel.weight_decay;
    r.linear_val_top1 = 100.0 * sel.val_accuracy;
  } else {
    GPS_CHECK(cfg.linear_select == "none", "eval.linear_select must be none or val, got '", cfg.linear_select, "'");
    probe = linear_probe(train_x, train.labels, test_x, test.labels, C, lp);
    r.linear_lr = lp.lr;
    r.linear_weight_decay = lp.weight_decay;
  }
  r.linear_top1 = 100.0 * probe.test_accuracy;
  r.linear_train_top1 = 100.0 * probe.train_accuracy;
  r.knn_metric = cfg.knn_metric;
  r.knn_top1 = 100.0 * knn_accuracy(train_x, train.labels, test_x, test.labels, cfg.knn_k, cfg.knn_temperature, C,
                                    cfg.knn_metric);
  for (double a : per_class_accuracy(probe.test_pred, test.labels, C)) r.linear_per_class.push_back(100.0 * a);
  const auto recall = recall_at_k(test_x, test.labels, {1, 5}, cfg.knn_metric);
  r.recall_at_1 = 100.0 * recall.at(1);
  r.recall_at_5 = 100.0 * recall.at(5);
  r.rankme = rankme(train_x);
  r.train_images = train.size();
  r.test_images = test.size();
  r.feature_dim = train_x.size(1);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.done = true;
  return r;
}

}  // namespace gps
