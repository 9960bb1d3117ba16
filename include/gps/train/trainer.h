// Training of one SSL run (plain or GPS), evaluation included.
#pragma once

#include "gps/config/config.h"
#include "gps/eval/evaluate.h"
#include "gps/neighbors/table_cache.h"

#include <nlohmann/json.hpp>

#include <string>

namespace gps {

struct TrainResult {
  std::string run_dir;
  int64_t steps = 0;
  double train_seconds = 0;     // optimisation loop only
  double images_per_second = 0; // anchor images (each gives two views) per second
  double final_loss = 0;
  double online_probe_top1 = -1;  // running accuracy of the online probe over the last epoch, in %
  TableInfo table;
  bool gps = false;
  bool interrupted = false;     // stopped early by SIGINT/SIGTERM (checkpoint written, no evaluation)
  EvalResult eval;
};

// Runs one training as configured: loads data, builds or reuses the
// neighbour table (gps=true) or the self table (gps=false), trains, writes
// the run directory (config.yaml, command.txt, metrics.jsonl, checkpoint.pt,
// summary.json with eval) and returns its numbers. When a stop is requested
// (stop_signal.h) it finishes the current step, writes checkpoint and
// summary, skips evaluation and returns with `interrupted` set. `command_line` is recorded.
// Throws gps::Error for bad input.
TrainResult train(const Config& cfg, const std::string& command_line);

}  // namespace gps
