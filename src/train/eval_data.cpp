#include "gps/train/eval_data.h"

#include "gps/core/check.h"
#include "gps/data/registry.h"
#include "gps/eval/linear_select.h"

namespace gps {

EvalData prepare_eval_data(const Config& cfg, const Dataset& train) {
  EvalData out;
  const bool probes = cfg.eval.enabled, curve = cfg.eval.knn_every > 0;
  if (!probes && !curve) return out;
  if (!probes && !train.has_labels()) return out;  // the curve logs RankMe alone: no labels, no kNN
  const std::string who = probes ? "eval.enabled=true" : str_cat("eval.knn_every=", cfg.eval.knn_every);
  const std::string off = probes ? "set eval.enabled=false" : "set eval.knn_every=0";
  GPS_CHECK(train.has_labels(), who, " needs labels, and ", train.name, " has none: ", off,
            " to train on unlabeled data (then evaluate the run elsewhere)");
  try {
    out.test = load_dataset(cfg.data, "test");
  } catch (const Error& e) {
    GPS_FAIL(who, " evaluates on the test split, which cannot be loaded: ", e.what(),
             "\n---> HINT: add the test split, or ", off, " to train without it");
  }
  GPS_CHECK(out.test->has_labels(), who, " needs labels on the test split, and ", out.test->name, " has none: ", off);
  if (probes && (cfg.eval.linear_select == "val" || cfg.eval.linear == "sgd-grid"))
    stratified_val_split(train.labels, cfg.eval.val_fraction, uint64_t(cfg.train.seed));  // throws when none can be held out
  return out;
}

}  // namespace gps
