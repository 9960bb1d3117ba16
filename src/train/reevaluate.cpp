#include "gps/train/reevaluate.h"

#include "gps/core/check.h"
#include "gps/data/registry.h"
#include "gps/io/fs.h"
#include "gps/methods/method.h"
#include "gps/methods/run_reader.h"
#include "gps/models/features.h"
#include "gps/train/eval_data.h"
#include "gps/train/run_summary.h"

#include <nlohmann/json.hpp>

namespace gps {

EvalResult reevaluate_run(const std::string& run_dir, const EvalConfig& eval) {
  const RunReader run(run_dir, "re-evaluation");
  const auto summary = find_run_summary(run_dir);
  GPS_CHECK(summary && !summary->interrupted, "re-evaluation: ", run_dir,
            " is not a finished run (no summary.json, or it was interrupted): finish it first");
  Config cfg = load_config(run.config_path(), {});
  cfg.eval = eval;
  cfg.eval.enabled = true;
  const Dataset train = load_dataset(cfg.data, "train");
  const EvalData data = prepare_eval_data(cfg, train);
  // As the end of training evaluates (trainer.cpp): the final weights, batches of 512, the run's seed.
  Method method = run.load_method(train.channels());
  auto train_x = extract_features(method->backbone(), train, 512);
  auto test_x = extract_features(method->backbone(), *data.test, 512);
  if (cfg.eval.features == "projector") {
    train_x = project_features(*method, train_x);
    test_x = project_features(*method, test_x);
  }
  const EvalResult r = evaluate_features(train_x, train, test_x, *data.test, cfg.eval, uint64_t(cfg.train.seed));

  nlohmann::json j = nlohmann::json::parse(read_file(run.summary_path(), "summary.json"));
  if (j.contains("eval")) {
    if (!j["eval_history"].is_array()) j["eval_history"] = nlohmann::json::array();
    j["eval_history"].push_back(j["eval"]);
  }
  j["eval"] = r.to_json();
  atomic_write_text(run.summary_path(), j.dump(2) + "\n");
  return r;
}

}  // namespace gps
