// The tables of an experiment grid, from its cells' run directories:
// per-cell and aggregated CSV, the paper's Table 2 layout (rows = method,
// columns = augmentation x plain/GPS, mean ± std over seeds), the runtime
// comparison of Figure 4 and the learning-rate table of Table 1 (right).
#pragma once

#include "gps/experiment/grid.h"

#include <map>
#include <string>
#include <vector>

namespace gps {

// `v` with `decimals` digits after the point ("" when v is not finite): the
// numbers of every table written here.
std::string fixed_decimals(double v, int decimals);

// One cell's numbers, read back from its run directory.
struct CellResult {
  std::string id, run_dir;
  std::vector<std::string> labels;  // one per ResultTables::keys entry
  std::string status = "pending";   // finished | pending | interrupted | failed
  bool resumed = false;             // continued after a stop: train_seconds covers the last session only
  bool selected = false;            // chosen on validation (experiment.select, selection.h)
  // linear_top1, knn_top1, recall_at_1, recall_at_5 (%), linear_val_top1 (% or -1),
  // train_seconds, images_per_second, final_loss; present when finished.
  std::map<std::string, double> metrics;
};

// Reads summary.json (and metrics.jsonl for resume records) of a run
// directory; status "finished" only for a run that ran to its end.
CellResult read_cell_result(const std::string& run_dir);

struct ResultTables {
  std::vector<std::string> keys;                  // grid axes, then the row/column keys the grid does not vary
  std::vector<std::vector<std::string>> orders;   // distinct labels per key, in grid order
  std::vector<CellResult> cells;
};

// Labels the cells of `spec` (keys = axes, plus spec.rows / spec.columns
// keys that are not axes, labelled with the base config's value).
ResultTables make_result_tables(const ExperimentSpec& spec, const std::vector<GridCell>& cells,
                                const std::vector<CellResult>& results);

struct MeanStd {
  int64_t n = 0;
  double mean = 0, std = 0;  // std: sample standard deviation (n - 1), 0 for n = 1
};
MeanStd mean_std(const std::vector<double>& v);
// "81.23 ± 0.45" (n >= 2), "81.23" (n = 1), "–" (n = 0).
std::string format_mean_std(const MeanStd& m, int decimals);

// Every cell: id, labels, status, metrics, run directory.
std::string cells_csv(const ResultTables& t);
// One row per combination of the keys other than `average`: n and mean / std of each metric.
std::string results_csv(const ResultTables& t, const std::string& average);

// Markdown documents; the experiment's name and settings head each.
std::string results_markdown(const ResultTables& t, const ExperimentSpec& spec);
std::string runtime_markdown(const ResultTables& t, const ExperimentSpec& spec);
// "" unless optim.lr is a grid axis with at least two values.
std::string lr_markdown(const ResultTables& t, const ExperimentSpec& spec);

// PNG figures: accuracy against learning rate (false when optim.lr does not
// vary), runtime bars, and a run's training curves (loss against step from
// metrics.jsonl into <run_dir>/curves.png, plus knn.png when the run logged
// periodic kNN; false when the run logged no loss).
bool write_lr_plot(const std::string& path, const ResultTables& t, const ExperimentSpec& spec);
bool write_runtime_plot(const std::string& path, const ResultTables& t, const ExperimentSpec& spec);
bool write_training_curves(const std::string& run_dir);

// Display name of a label: method.name simclr -> SimCLR, gps true -> GPS, false -> plain.
std::string display_label(const std::string& key, const std::string& label);

}  // namespace gps
