// Running an experiment grid: every cell is a normal run directory under
// <out_dir>/<name>/cells/<cell id>, trained with gps::train. Finished cells
// are skipped, interrupted ones continued from their checkpoint, so a grid
// can be stopped (SIGINT, request_stop) and started again at any time. After
// each cell the tables and figures of results.h are rewritten.
#pragma once

#include "gps/experiment/grid.h"
#include "gps/experiment/results.h"

#include <functional>
#include <string>
#include <vector>

namespace gps {

struct ExperimentOptions {
  bool dry_run = false;       // list the cells and their state; train nothing, write nothing
  bool tables_only = false;   // rewrite tables and figures from the finished cells; train nothing
  // Finished cells measured under other eval.* keys (another probe protocol)
  // are evaluated again from their final weights (train/reevaluate.h), not
  // retrained; without it they are listed and keep their figures.
  bool reevaluate = false;
  // Called before a cell is trained or continued (tests use it to stop a grid midway).
  std::function<void(const GridCell&)> before_train;
};

struct ExperimentResult {
  std::string dir;                    // <out_dir>/<name>
  std::vector<GridCell> cells;
  std::vector<CellResult> results;    // per cell, after the run
  std::vector<std::string> actions;   // per cell: skipped (finished earlier) | reevaluated | trained | resumed |
                                      // failed | stopped | pending
  int64_t trained = 0, resumed = 0, skipped = 0, failed = 0;
  int64_t reevaluated = 0;            // finished cells evaluated again (ExperimentOptions::reevaluate)
  int64_t other_protocol = 0;         // finished cells left with figures of other eval.* keys
  bool interrupted = false;           // a stop was requested; unfinished cells continue on the next run
  std::vector<std::string> files;     // tables and figures written
  std::string results_markdown;
};

// Runs (or continues) the grid of `spec`. Before training anything, every
// cell's config is validated and every finished cell's saved config is
// compared with its config now: a difference in keys that change training is
// an error (rename the experiment or delete the cell). A cell that throws
// gps::Error is reported (error.txt in its folder) and the grid goes on.
// `command_line` is recorded in <dir>/command.txt and in each run.
ExperimentResult run_experiment(const ExperimentSpec& spec, const std::string& command_line,
                                const ExperimentOptions& opt = {});

}  // namespace gps
