// The headline experiment in miniature: the same method trained plain and
// with GPS under one configuration, plus the prior's own accuracy as a
// reference point, printed side by side.
#pragma once

#include "gps/config/config.h"
#include "gps/train/trainer.h"

#include <string>

namespace gps {

struct CompareResult {
  TrainResult plain, gps;
  EvalResult prior;             // linear probe / kNN of the prior's own embeddings
  std::string prior_name;
  std::string table_markdown;   // the side-by-side table
  std::string out_dir;          // where compare.md / compare.json were written
};

// Trains cfg with gps=false and gps=true (names <name>-plain / <name>-gps under
// cfg.train.out_dir), evaluates the prior's embeddings, writes compare.md and
// compare.json into cfg.train.out_dir and returns everything.
CompareResult run_compare(const Config& cfg, const std::string& command_line);

// run_compare for `seeds` seeds (train.seed, train.seed + 1, ...; runs named
// <name>-s<seed>-plain / -gps), then mean +- std (sample std over seeds) of
// each accuracy and of the gain, written to <name>-seeds.md and
// <name>-seeds.json in cfg.train.out_dir. Returns the table (markdown).
std::string run_compare_seeds(const Config& cfg, int seeds, const std::string& command_line);

}  // namespace gps
