// gps experiment: a grid of runs from one YAML file, with result tables.
#include "commands.h"

#include "gps/core/check.h"
#include "gps/experiment/experiment.h"
#include "gps/train/stop_signal.h"

#include <cstdio>

namespace gps::cli {

Runner add_experiment(CLI::App& app, std::string& command_line) {
  struct Args {
    std::string config_path;
    std::vector<std::string> overrides;
    bool dry_run = false, tables_only = false, reevaluate = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("-c,--config", a->config_path, "experiment YAML: a run config plus grid: (see configs/fmnist-table2.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("overrides", a->overrides,
                 "key=value applied to every cell (e.g. optim.epochs=1); grid.KEY=v1,v2 replaces a grid axis; "
                 "experiment.name=NAME / experiment.out_dir=DIR / experiment.average=KEY");
  app.add_flag("--dry-run", a->dry_run, "list the cells and whether each is finished, to continue or to train");
  app.add_flag("--tables-only", a->tables_only, "rewrite the tables and figures from the finished cells, train nothing");
  app.add_flag("--reevaluate", a->reevaluate,
               "evaluate finished cells measured under other eval.* keys again from their final weights (e.g. after "
               "changing the probe); the figures they replace stay in each summary.json's eval_history");
  app.footer(
      "\nThe grid YAML is a run config (see `gps train --help` for every key) plus:\n"
      "  experiment: {name: NAME, out_dir: DIR, average: train.seed, rows: [method.name],\n"
      "               columns: [augment.preset, gps]}\n"
      "  grid: {method.name: [simclr, byol], gps: [false, true], train.seed: [0, 1]}   # all combinations\n"
      "  per_method: {byol: {optim.name: lars, optim.lr: 1.0}}\n"
      "  when: [{if: {augment.preset: strong}, set: {optim.lr: 0.3}}]\n"
      "experiment.select: [KEY, ...] (e.g. select: [optim.lr] under experiment:, with optim.lr a grid key) is\n"
      "best of grid, chosen on validation: for each combination of the other grid keys (experiment.average's\n"
      "values pooled) it chooses the values of KEY whose cells have the best mean validation top-1 (the linear\n"
      "probe's, on a split of train; the test split takes no part). results.md ends with a \"Best of grid,\n"
      "chosen on validation\" table of their test figures; the chosen cells are marked in the other tables,\n"
      "cells.csv and experiment.json. KEY is neither experiment.average nor a row or column key.\n"
      "Cells are run directories under DIR/NAME/cells/; finished ones are skipped, interrupted ones continued.\n"
      "Written to DIR/NAME: results.md (Table 2 layout), results.csv, cells.csv, runtime.md + runtime.png,\n"
      "lr.md + lr.png (when optim.lr is a grid key), experiment.json; curves.png in each cell.\n");
  return [a, &command_line]() {
    const ExperimentSpec spec = load_experiment(a->config_path, a->overrides);
    ExperimentOptions opt;
    opt.dry_run = a->dry_run;
    opt.tables_only = a->tables_only;
    opt.reevaluate = a->reevaluate;
    if (!opt.dry_run && !opt.tables_only) install_stop_handlers();
    const ExperimentResult r = run_experiment(spec, command_line, opt);
    if (opt.dry_run) return 0;
    std::printf("\n%s\n", r.results_markdown.c_str());
    std::printf("Written:\n");
    for (const auto& f : r.files) std::printf("  %s\n", f.c_str());
    if (r.interrupted) return 130;
    return r.failed > 0 ? 1 : 0;
  };
}

}  // namespace gps::cli
