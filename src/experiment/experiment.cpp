#include "gps/experiment/experiment.h"

#include "gps/core/check.h"
#include "gps/experiment/selection.h"
#include "gps/io/fs.h"
#include "gps/methods/run_reader.h"
#include "gps/train/reevaluate.h"
#include "gps/train/run_dir.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace gps {

namespace {

namespace fs = std::filesystem;

std::string cell_dir(const GridCell& c) { return (fs::path(c.config.train.out_dir) / c.id).string(); }

// A cell folder that a crash left before the trainer wrote its config holds
// at most these files; anything else means the folder is not ours to remove.
void remove_unstarted_cell_dir(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    GPS_CHECK(e.is_regular_file() && (n == "metrics.jsonl" || n == "command.txt"), "cell folder ", dir,
              " exists but is not a run directory (no config.yaml, holds ", n,
              "); move it away so the cell can be trained");
  }
  fs::remove_all(dir);
}

// Refuses to reuse a finished cell trained with another config.
void check_finished_cell(const GridCell& c, const std::string& dir) {
  Config saved;
  saved.merge_yaml_file(RunReader(dir, "experiment cell " + c.id).config_path());
  const auto changed = changed_training_keys(saved, c.config);
  if (changed.empty()) return;
  std::string list;
  for (const auto& k : changed) list += str_cat("\n  ", k, ": cell has ", saved.get(k), ", the grid now ", c.config.get(k));
  GPS_FAIL("cell ", c.id, " (", dir, ") was finished with a different config:", list,
           "\n---> HINT: give the changed grid a new experiment.name (or experiment.name=... on the command line), "
           "or delete the cell's folder to retrain it");
}

// The protocol a finished cell's figures were measured under ("" for a
// summary written before gps recorded it: another protocol).
std::string evaluated_under(const std::string& dir) {
  const auto s = find_run_summary(dir);
  return s && s->eval.done ? s->eval.protocol : std::string();
}

void write_outputs(const ExperimentSpec& spec, ExperimentResult& res, const std::vector<std::string>& errors) {
  ResultTables t = make_result_tables(spec, res.cells, res.results);
  std::string selected_md;
  if (!spec.select.empty()) {
    const auto sel = select_on_validation(t, spec.select, spec.average);
    for (const auto& s : sel)
      for (auto& c : t.cells) c.selected |= std::find(s.cell_ids.begin(), s.cell_ids.end(), c.id) != s.cell_ids.end();
    selected_md = selection_markdown(sel, spec.select);
  }
  const fs::path dir(res.dir);
  res.files.clear();
  auto write = [&](const std::string& name, const std::string& text) {
    atomic_write_text((dir / name).string(), text);
    res.files.push_back((dir / name).string());
  };
  write("cells.csv", cells_csv(t));
  write("results.csv", results_csv(t, spec.average));
  res.results_markdown = results_markdown(t, spec) + selected_md;
  write("results.md", res.results_markdown);
  write("runtime.md", runtime_markdown(t, spec));
  const std::string lr = lr_markdown(t, spec);
  if (!lr.empty()) write("lr.md", lr);
  if (write_runtime_plot((dir / "runtime.png").string(), t, spec)) res.files.push_back((dir / "runtime.png").string());
  if (write_lr_plot((dir / "lr.png").string(), t, spec)) res.files.push_back((dir / "lr.png").string());
  nlohmann::json cells = nlohmann::json::array();
  for (size_t i = 0; i < t.cells.size(); ++i) {
    const auto& c = t.cells[i];
    nlohmann::json labels = nlohmann::json::object();
    for (size_t k = 0; k < t.keys.size(); ++k) labels[t.keys[k]] = c.labels[k];
    cells.push_back({{"id", c.id}, {"labels", labels}, {"status", c.status}, {"action", res.actions[i]},
                     {"resumed", c.resumed}, {"selected", c.selected}, {"metrics", c.metrics},
                     {"run_dir", c.run_dir}});
  }
  write("experiment.json", nlohmann::json({{"name", spec.name}, {"dir", res.dir}, {"average", spec.average},
                                           {"interrupted", res.interrupted}, {"errors", errors}, {"cells", cells}})
                               .dump(2) + "\n");
}

}  // namespace

ExperimentResult run_experiment(const ExperimentSpec& spec, const std::string& command_line,
                                const ExperimentOptions& opt) {
  ExperimentResult res;
  res.dir = experiment_dir(spec);
  res.cells = expand_grid(spec);
  const size_t n = res.cells.size();
  res.results.resize(n);
  res.actions.assign(n, "pending");
  size_t finished = 0;
  for (const auto& c : res.cells) {
    const std::string dir = cell_dir(c);
    if (!is_finished_run(dir)) continue;
    check_finished_cell(c, dir);
    ++finished;
  }
  std::printf("[experiment] %s: %zu cells, %zu finished, %zu to run\n", res.dir.c_str(), n, finished, n - finished);
  if (opt.dry_run) {
    for (size_t i = 0; i < n; ++i) {
      const std::string dir = cell_dir(res.cells[i]);
      res.results[i] = read_cell_result(dir);
      const bool started = RunReader::is_run(dir);
      res.actions[i] = res.results[i].status == "finished" ? "skipped" : "pending";
      std::printf("  %-40s %s\n", res.cells[i].id.c_str(),
                  res.results[i].status == "finished" ? "finished" : started ? "to continue" : "to train");
    }
    return res;
  }
  fs::create_directories(res.dir);
  const DirLock lock(res.dir, "experiment folder");  // one `gps experiment` per folder; released on return or crash
  atomic_write_text((fs::path(res.dir) / "experiment.yaml").string(), spec.source);
  std::ofstream(fs::path(res.dir) / "command.txt", std::ios::app) << command_line << "\n";

  std::vector<std::string> errors;
  for (size_t i = 0; i < n; ++i) {
    const GridCell& cell = res.cells[i];
    const std::string dir = cell_dir(cell);
    if (is_finished_run(dir)) {
      res.actions[i] = "skipped";
      ++res.skipped;
      if (cell.config.eval.enabled && evaluated_under(dir) != eval_protocol(cell.config.eval)) {
        if (opt.reevaluate && !opt.tables_only && !stop_requested()) {
          std::printf("[experiment] cell %zu/%zu %s: evaluating again (%s)\n", i + 1, n, cell.id.c_str(),
                      eval_protocol(cell.config.eval).c_str());
          std::fflush(stdout);
          const EvalResult e = reevaluate_run(dir, cell.config.eval);
          std::printf("[experiment] cell %s: linear %.2f%%, kNN %.2f%%\n", cell.id.c_str(), e.linear_top1, e.knn_top1);
          res.actions[i] = "reevaluated";
          ++res.reevaluated;
        } else {
          ++res.other_protocol;
        }
      }
      res.results[i] = read_cell_result(dir);
      if (!fs::exists(fs::path(dir) / "curves.png")) write_training_curves(dir);
      continue;
    }
    if (opt.tables_only) {
      res.results[i] = read_cell_result(dir);
      continue;
    }
    if (stop_requested()) {
      res.interrupted = true;
      break;
    }
    if (opt.before_train) opt.before_train(cell);
    ResumeOptions ro;
    if (RunReader::is_run(dir))
      ro.run_dir = dir;
    else if (fs::exists(dir))
      remove_unstarted_cell_dir(dir);
    std::printf("[experiment] cell %zu/%zu %s: %s\n", i + 1, n, cell.id.c_str(),
                ro.run_dir.empty() ? "training" : "continuing from its checkpoint");
    std::fflush(stdout);
    try {
      const TrainResult r = train(cell.config, command_line + "  # experiment " + spec.name + ", cell " + cell.id, ro);
      if (r.interrupted) {
        res.actions[i] = "stopped";
        res.interrupted = true;
      } else {
        res.actions[i] = ro.run_dir.empty() ? "trained" : "resumed";
        ++(ro.run_dir.empty() ? res.trained : res.resumed);
        std::printf("[experiment] cell %s: linear %.2f%%, kNN %.2f%%, %.1f s\n", cell.id.c_str(), r.eval.linear_top1,
                    r.eval.knn_top1, r.train_seconds);
      }
    } catch (const std::exception& e) {
      res.actions[i] = "failed";
      ++res.failed;
      errors.push_back(cell.id + ": " + e.what());
      std::fprintf(stderr, "[experiment] cell %s failed: %s\n", cell.id.c_str(), e.what());
    }
    res.results[i] = read_cell_result(dir);
    if (res.actions[i] == "failed") res.results[i].status = "failed";
    if (fs::exists(dir)) write_training_curves(dir);
    if (res.interrupted) break;
    write_outputs(spec, res, errors);  // the tables grow as the grid runs
  }
  // Cells not reached in this session still show what they have.
  for (size_t i = 0; i < n; ++i)
    if (res.actions[i] == "pending") res.results[i] = read_cell_result(cell_dir(res.cells[i]));
  write_outputs(spec, res, errors);
  std::printf("[experiment] %s: %lld trained, %lld continued, %lld already finished, %lld failed%s\n",
              res.dir.c_str(), static_cast<long long>(res.trained), static_cast<long long>(res.resumed),
              static_cast<long long>(res.skipped), static_cast<long long>(res.failed),
              res.interrupted ? "; stopped: run the same command again to continue" : "");
  if (res.reevaluated > 0)
    std::printf("[experiment] %lld finished cells evaluated again under the grid's eval.* keys\n",
                static_cast<long long>(res.reevaluated));
  if (res.other_protocol > 0)
    std::printf("[experiment] %lld finished cells keep figures measured under other eval.* keys (an older probe); "
                "--reevaluate evaluates them again from their weights\n",
                static_cast<long long>(res.other_protocol));
  return res;
}

}  // namespace gps
