// Re-evaluating a finished run under another evaluation protocol (eval.*
// keys: the probe, its grid, kNN) without training it again: the final
// weights, the run's own data and seed, the probes as the end of training
// runs them. The result replaces "eval" in the run's summary.json; the one
// it replaces is kept, last, in "eval_history", so nothing measured is lost.
#pragma once

#include "gps/config/config.h"
#include "gps/eval/evaluate.h"

#include <string>

namespace gps {

// `run_dir`: a finished run (summary.json, not interrupted). `eval`: the
// protocol to apply. Throws gps::Error naming the run for an unfinished or
// interrupted run, or data that cannot be evaluated.
EvalResult reevaluate_run(const std::string& run_dir, const EvalConfig& eval);

}  // namespace gps
