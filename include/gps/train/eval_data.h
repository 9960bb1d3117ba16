// The data a run evaluates on, resolved in the run's setup: a run that
// cannot evaluate fails before its first step, naming what is missing,
// instead of training to the end and failing with its checkpoint written.
#pragma once

#include "gps/config/config.h"
#include "gps/data/dataset.h"

#include <optional>

namespace gps {

struct EvalData {
  // The test split, for the final probes (eval.enabled) and the kNN curve
  // (eval.knn_every > 0); empty when the run evaluates nothing.
  std::optional<Dataset> test;
};

// Loads and checks what evaluation will need: labels on the train split,
// the test split and its labels, and, with eval.linear_select=val, a
// validation split of the train labels. Throws gps::Error naming the
// missing split or key and the setting that turns the evaluation off.
EvalData prepare_eval_data(const Config& cfg, const Dataset& train);

}  // namespace gps
