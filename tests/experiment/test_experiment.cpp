// Experiment grids: parsing, cell expansion, a tiny grid trained end to end,
// skipping finished cells, resuming interrupted ones, and the tables.
#include "gps/experiment/experiment.h"
#include "gps/experiment/results.h"
#include "gps/io/fs.h"
#include "gps/train/reevaluate.h"
#include "gps/train/run_summary.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace gps;
namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << "no column " << name;
  return size_t(it - header.begin());
}

// Clears a stop request even when an assertion returns early.
struct StopGuard {
  ~StopGuard() { request_stop(false); }
};

class Experiment : public ::testing::Test {
 protected:
  void SetUp() override { test::write_tiny_mnist(tmp.file("fm"), 60, 20); }
  // A grid file: the tiny training config plus `extra` (grid:, experiment:, ...).
  std::string grid_file(const std::string& extra, int64_t epochs = 1) {
    Config base = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), epochs);
    const std::string path = tmp.file("grid.yaml");
    std::ofstream(path) << base.to_yaml() << extra;
    return path;
  }
  std::string exp_dir(const std::string& name) const { return tmp.file("runs/" + name); }
  test::TempDir tmp;
};

const char* kTable2Grid =
    "experiment:\n"
    "  name: tiny\n"
    "grid:\n"
    "  method.name: [simclr, byol]\n"
    "  gps: [false, true]\n"
    "  train.seed: [0, 1]\n"
    "per_method:\n"
    "  byol:\n"
    "    optim.lr: 0.5\n"
    "    method: {pred_hidden_dim: 8}\n";

}  // namespace

TEST_F(Experiment, ExpandsTheGridWithPerMethodSettingsAndReadableIds) {
  const auto spec = load_experiment(grid_file(kTable2Grid), {});
  EXPECT_EQ(spec.name, "tiny");
  const auto cells = expand_grid(spec);
  ASSERT_EQ(cells.size(), 8u);
  EXPECT_EQ(cells[0].id, "simclr-plain-seed0");
  EXPECT_EQ(cells[1].id, "simclr-plain-seed1");
  EXPECT_EQ(cells[7].id, "byol-gps-seed1");
  EXPECT_EQ(cells[0].config.optim.lr, spec.base.optim.lr);
  EXPECT_EQ(cells[7].config.optim.lr, 0.5);
  EXPECT_EQ(cells[7].config.method.pred_hidden_dim, 8);
  EXPECT_TRUE(cells[7].config.gps);
  EXPECT_EQ(cells[7].config.train.seed, 1);
  EXPECT_EQ(cells[7].config.train.name, "byol-gps-seed1");
  EXPECT_EQ(fs::path(cells[7].config.train.out_dir), fs::path(exp_dir("tiny")) / "cells");
}

TEST_F(Experiment, GridValuesWinOverPerMethodAndOverridesWinOverAll) {
  const auto spec = load_experiment(
      grid_file("grid:\n  method.name: [byol]\n  optim.lr: [0.1, 0.2]\nper_method:\n  byol: {optim.lr: 9, optim.epochs: 3}\n"
                "when:\n  - {if: {optim.lr: 0.2}, set: {neighbors.k: 2}}\n"),
      {"optim.epochs=1", "experiment.name=renamed"});
  EXPECT_EQ(spec.name, "renamed");
  const auto cells = expand_grid(spec);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].id, "byol-lr0.1");
  EXPECT_EQ(cells[0].config.optim.lr, 0.1);
  EXPECT_EQ(cells[1].config.optim.lr, 0.2);
  EXPECT_EQ(cells[0].config.optim.epochs, 1);
  EXPECT_EQ(cells[0].config.neighbors.rules.k, 4);
  EXPECT_EQ(cells[1].config.neighbors.rules.k, 2);
}

TEST_F(Experiment, BundleAxesSetSeveralKeys) {
  const auto spec = load_experiment(
      grid_file("grid:\n  prior:\n    - {label: raw, kind: pixels}\n    - {label: pca, kind: pixels, pca_dim: 4}\n"), {});
  const auto cells = expand_grid(spec);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[1].id, "pca");
  EXPECT_EQ(cells[1].config.prior.pca_dim, 4);
  EXPECT_EQ(cells[0].config.prior.pca_dim, 0);
}

TEST_F(Experiment, BadGridFilesNameTheProblem) {
  auto err = [&](const std::string& extra, const std::vector<std::string>& ov = {}) {
    return test::error_of([&] { expand_grid(load_experiment(grid_file(extra), ov)); });
  };
  EXPECT_NE(err("grid:\n  optim.learning_rate: [0.1]\n").find("optim.learning_rate"), std::string::npos);
  EXPECT_NE(err("grid:\n  method.name: [simclr, moco]\n").find("method.name"), std::string::npos);
  EXPECT_NE(err("grid:\n  gps: []\n").find("grid.gps"), std::string::npos);
  EXPECT_NE(err("experiment: {name: x}\n").find("grid"), std::string::npos);
  EXPECT_NE(err("grid:\n  gps: [false, true]\n", {"gps=true"}).find("grid.gps"), std::string::npos);
  EXPECT_NE(err("grid:\n  gps: [true]\nper_method:\n  moco: {optim.lr: 1}\n").find("per_method"), std::string::npos);
  // A cell whose config is contradictory is named.
  EXPECT_NE(err("grid:\n  optim.warmup_epochs: [0, 5]\n").find("cell warmup_epochs5"), std::string::npos);
  // grid.KEY=... replaces an axis from the command line.
  const auto spec = load_experiment(grid_file("grid:\n  gps: [false, true]\n"), {"grid.gps=true"});
  EXPECT_EQ(expand_grid(spec).size(), 1u);
}

TEST_F(Experiment, TinyGridRunsWritesTablesSkipsFinishedCellsAndResumes) {
  const std::string file = grid_file(kTable2Grid);
  const auto spec = load_experiment(file, {});
  const auto first = run_experiment(spec, "test");
  ASSERT_EQ(first.trained, 8) << first.results_markdown;
  EXPECT_EQ(first.failed, 0);
  const std::string dir = exp_dir("tiny");
  for (const char* f : {"results.md", "results.csv", "cells.csv", "runtime.md", "runtime.png", "experiment.json",
                        "experiment.yaml", "command.txt"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  EXPECT_FALSE(fs::exists(fs::path(dir) / "lr.md"));  // lr does not vary
  EXPECT_TRUE(fs::exists(fs::path(dir) / "cells/simclr-gps-seed0/curves.png"));

  // Table 2 layout: rows = methods, columns = augmentation x plain/GPS, mean ± std.
  const std::string md = read_text(dir + "/results.md");
  EXPECT_NE(md.find("| method "), std::string::npos) << md;
  EXPECT_NE(md.find("weak / plain"), std::string::npos) << md;
  EXPECT_NE(md.find("weak / GPS"), std::string::npos) << md;
  EXPECT_NE(md.find("| SimCLR "), std::string::npos) << md;
  EXPECT_NE(md.find("| BYOL "), std::string::npos) << md;
  EXPECT_NE(md.find(" ± "), std::string::npos) << md;
  EXPECT_NE(md.find("Finished cells: 8 of 8"), std::string::npos) << md;
  const std::string runtime = read_text(dir + "/runtime.md");
  EXPECT_NE(runtime.find("GPS / plain"), std::string::npos) << runtime;

  // results.csv: one row per method x gps, n = 2 seeds, mean and sample std of the cells.
  const auto csv = read_csv(dir + "/results.csv");
  ASSERT_EQ(csv.size(), 5u);
  const auto& h = csv[0];
  const size_t cm = column(h, "method.name"), cg = column(h, "gps"), cn = column(h, "n"),
               cmean = column(h, "linear_top1_mean"), cstd = column(h, "linear_top1_std");
  EXPECT_EQ(csv[1][cm], "simclr");
  EXPECT_EQ(csv[1][cg], "false");
  EXPECT_EQ(csv[4][cm], "byol");
  EXPECT_EQ(csv[4][cg], "true");
  for (size_t r = 1; r < csv.size(); ++r) EXPECT_EQ(csv[r][cn], "2");
  std::vector<double> acc;
  for (const char* cell : {"simclr-plain-seed0", "simclr-plain-seed1"}) {
    std::ifstream f(dir + "/cells/" + cell + "/summary.json");
    acc.push_back(nlohmann::json::parse(f)["eval"]["linear_top1"].get<double>());
  }
  const double mean = (acc[0] + acc[1]) / 2, sd = std::abs(acc[0] - acc[1]) / std::sqrt(2.0);
  EXPECT_NEAR(std::stod(csv[1][cmean]), mean, 1e-4);
  if (sd > 0) EXPECT_NEAR(std::stod(csv[1][cstd]), sd, 1e-4);
  EXPECT_EQ(read_csv(dir + "/cells.csv").size(), 9u);

  // Second invocation: nothing is trained, no run is touched.
  std::map<std::string, fs::file_time_type> stamps;
  for (const auto& c : first.cells) stamps[c.id] = fs::last_write_time(fs::path(dir) / "cells" / c.id / "summary.json");
  const auto second = run_experiment(spec, "test");
  EXPECT_EQ(second.trained, 0);
  EXPECT_EQ(second.resumed, 0);
  EXPECT_EQ(second.skipped, 8);
  for (const auto& c : first.cells)
    EXPECT_EQ(fs::last_write_time(fs::path(dir) / "cells" / c.id / "summary.json"), stamps[c.id]) << c.id;

  // An interrupted cell (its summary lost) is continued from its checkpoint, the others skipped.
  fs::remove(fs::path(dir) / "cells/byol-plain-seed1/summary.json");
  const auto third = run_experiment(spec, "test");
  EXPECT_EQ(third.resumed, 1);
  EXPECT_EQ(third.trained, 0);
  EXPECT_EQ(third.skipped, 7);
  EXPECT_TRUE(is_finished_run(dir + "/cells/byol-plain-seed1"));

  // The grid changed under a finished cell: refused, with a hint.
  const auto changed = load_experiment(file, {"optim.epochs=2"});
  const std::string e = test::error_of([&] { run_experiment(changed, "test"); });
  EXPECT_NE(e.find("optim.epochs"), std::string::npos) << e;
  EXPECT_NE(e.find("experiment.name"), std::string::npos) << e;
}

TEST_F(Experiment, StoppedGridContinuesWhereItStopped) {
  StopGuard guard;
  const auto spec = load_experiment(grid_file("experiment: {name: stop}\ngrid:\n  gps: [false, true]\n  train.seed: [0, 1]\n"), {});
  ExperimentOptions opt;
  int started = 0;
  opt.before_train = [&](const GridCell&) {
    if (++started == 2) request_stop(true);  // a SIGINT during the second cell
  };
  const auto first = run_experiment(spec, "test", opt);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.trained, 1);
  EXPECT_EQ(first.actions[1], "stopped");
  EXPECT_EQ(first.results[1].status, "interrupted");
  EXPECT_EQ(first.actions[2], "pending");
  EXPECT_FALSE(fs::exists(exp_dir("stop") + "/cells/gps-seed0"));
  // Partial tables are written.
  EXPECT_NE(read_text(exp_dir("stop") + "/results.md").find("Finished cells: 1 of 4"), std::string::npos);

  request_stop(false);
  const auto second = run_experiment(spec, "test");
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.skipped, 1);
  EXPECT_EQ(second.resumed, 1);
  EXPECT_EQ(second.trained, 2);
  for (const auto& c : second.cells) EXPECT_TRUE(is_finished_run(exp_dir("stop") + "/cells/" + c.id)) << c.id;
  EXPECT_TRUE(second.results[1].resumed);
  // The continued cell's time covers one session only: it stays out of the
  // runtime table, so plain has one value (no ±), GPS two (time and img/s with ±).
  const std::string runtime = read_text(exp_dir("stop") + "/runtime.md");
  const auto row = runtime.find("| SimCLR");
  ASSERT_NE(row, std::string::npos) << runtime;
  const std::string line = runtime.substr(row, runtime.find('\n', row) - row);
  size_t pm = 0;
  for (size_t p = line.find("±"); p != std::string::npos; p = line.find("±", p + 1)) ++pm;
  EXPECT_EQ(pm, 2u) << line;
}

TEST_F(Experiment, LearningRateGridWritesTheSensitivityTableAndPlot) {
  const auto spec = load_experiment(
      grid_file("experiment: {name: lr}\ngrid:\n  optim.lr: [0.1, 0.3]\n  gps: [false, true]\n"), {});
  const auto r = run_experiment(spec, "test");
  ASSERT_EQ(r.trained, 4);
  const std::string md = read_text(exp_dir("lr") + "/lr.md");
  EXPECT_NE(md.find("| lr "), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.1 "), std::string::npos) << md;
  EXPECT_NE(md.find("SimCLR / plain"), std::string::npos) << md;
  EXPECT_NE(md.find("SimCLR / GPS"), std::string::npos) << md;
  cv::Mat img = cv::imread(exp_dir("lr") + "/lr.png", cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 720);
  EXPECT_EQ(img.rows, 440);
  img = cv::imread(exp_dir("lr") + "/runtime.png", cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  img = cv::imread(exp_dir("lr") + "/cells/lr0.1-plain/curves.png", cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 720);
}

TEST_F(Experiment, MeanStdFormatting) {
  EXPECT_EQ(format_mean_std(mean_std({}), 2), "–");
  EXPECT_EQ(format_mean_std(mean_std({80.0}), 2), "80.00");
  EXPECT_EQ(format_mean_std(mean_std({80.0, 82.0}), 2), "81.00 ± 1.41");
  const auto m = mean_std({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.std, std::sqrt(5.0 / 3.0), 1e-12);
}

TEST_F(Experiment, CommandLineRunsTheGridAndSkipsItTheSecondTime) {
  const std::string file = grid_file("experiment: {name: cli}\ngrid:\n  gps: [false, true]\n");
  auto run = [&](const std::string& args) {
    const std::string cmd = std::string(GPS_BINARY_DIR) + "/gps experiment -c " + file + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    const int status = pclose(p);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  auto [code, out] = run("--dry-run");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("to train"), std::string::npos) << out;
  std::tie(code, out) = run("");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("2 trained"), std::string::npos) << out;
  EXPECT_NE(out.find("weak / GPS"), std::string::npos) << out;
  std::tie(code, out) = run("");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("0 trained, 0 continued, 2 already finished"), std::string::npos) << out;
  std::tie(code, out) = run("gps=true");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("grid.gps"), std::string::npos) << out;
}

// One `gps experiment` per folder: a second refuses at once naming the
// holder's pid, before it writes anything; once the lock is gone (the holder
// ended or crashed) the grid runs.
TEST_F(Experiment, AFolderInUseRefusesASecondExperiment) {
  const std::string file = grid_file("experiment: {name: held}\ngrid:\n  gps: [false]\n");
  const auto spec = load_experiment(file, {});
  const std::string dir = exp_dir("held");
  fs::create_directories(dir);
  {
    const DirLock held(dir, "experiment folder");  // as a running gps experiment would
    const std::string msg = test::error_of([&] { run_experiment(spec, "test"); });
    EXPECT_NE(msg.find("experiment folder " + dir + " is in use by another gps process (pid " +
                       std::to_string(::getpid()) + ")"),
              std::string::npos)
        << msg;
    EXPECT_FALSE(fs::exists(fs::path(dir) / "experiment.yaml")) << "nothing written";
    EXPECT_FALSE(fs::exists(fs::path(dir) / "cells")) << "nothing trained";
  }
  EXPECT_EQ(run_experiment(spec, "test").trained, 1);
}

TEST_F(Experiment, TrainingCurvesFromMetricsIncludingPeriodicKnn) {
  const std::string run = tmp.file("run-a");
  fs::create_directories(run);
  std::ofstream m(run + "/metrics.jsonl");
  m << "{\"step\":1,\"epoch\":0,\"loss\":5.0}\n{\"event\":\"knn\",\"epoch\":1,\"step\":2,\"knn_top1\":40.0}\n"
       "{\"step\":2,\"epoch\":1,\"loss\":nan}\n{\"step\":3,\"epoch\":1,\"loss\":4.0}\n"
       "{\"event\":\"knn\",\"epoch\":2,\"step\":4,\"knn_top1\":55.0}\n{\"step\":4,\"epoch\":1,\"loss\":3.5}\n";
  m.close();
  ASSERT_TRUE(write_training_curves(run));
  for (const char* f : {"/curves.png", "/knn.png"}) {
    const cv::Mat img = cv::imread(run + f, cv::IMREAD_COLOR);
    ASSERT_FALSE(img.empty()) << f;
    EXPECT_EQ(img.cols, 720);
    EXPECT_EQ(img.rows, 440);
  }
  fs::create_directories(tmp.file("run-b"));
  EXPECT_FALSE(write_training_curves(tmp.file("run-b")));  // no metrics: nothing drawn, no error
}

// configs/fmnist-methods.yaml runs the nine methods as their own
// configs/fmnist-<method>-weak.yaml do: every key that changes what a run
// computes is equal, but gps (the grid's column).
TEST(MethodsGrid, CellsEqualTheirOwnConfigs) {
  const std::string dir = std::string(GPS_SOURCE_DIR) + "/configs/";
  const auto spec = load_experiment(dir + "fmnist-methods.yaml", {});
  const auto cells = expand_grid(spec);
  ASSERT_EQ(cells.size(), 2 * test::builtin_methods().size());
  for (const auto& cell : cells) {
    const Config own = load_config(dir + "fmnist-" + cell.config.method.name + "-weak.yaml", {});
    for (const auto& k : config_schema())
      if (k.training && k.key != "gps") EXPECT_EQ(cell.config.get(k.key), own.get(k.key)) << cell.id << ": " << k.key;
  }
  // The tables name the methods as their papers do.
  EXPECT_EQ(display_label("method.name", "mocov3"), "MoCo v3");
  EXPECT_EQ(display_label("method.name", "swav"), "SwAV");
}

// Changing the probe protocol does not retrain a grid: --reevaluate evaluates
// the finished cells again from their final weights, keeps the figures they
// replace, and under the same protocol reproduces the end-of-training figures.
TEST_F(Experiment, ReevaluatesFinishedCellsUnderANewProbeProtocol) {
  const std::string file = grid_file("experiment:\n  name: reeval\ngrid:\n  gps: [false, true]\n");
  const auto adam = load_experiment(file, {"eval.linear=adam"});
  const auto first = run_experiment(adam, "test");
  ASSERT_EQ(first.trained, 2);
  const std::string cell = exp_dir("reeval") + "/cells/" + first.cells[0].id;
  const RunSummary trained = read_run_summary(cell + "/summary.json");
  EXPECT_EQ(trained.eval.linear, "adam");
  EXPECT_EQ(trained.eval.protocol, eval_protocol(first.cells[0].config.eval));

  // The same protocol again: the same figures, to the last digit.
  const EvalResult same = reevaluate_run(cell, first.cells[0].config.eval);
  EXPECT_EQ(same.linear_top1, trained.eval.linear_top1);
  EXPECT_EQ(same.knn_top1, trained.eval.knn_top1);
  EXPECT_EQ(same.recall_at_1, trained.eval.recall_at_1);

  // The paper's probe: listed without the flag, evaluated with it, nothing retrained.
  const auto sgd = load_experiment(file, {"eval.linear=sgd-grid"});
  const auto listed = run_experiment(sgd, "test");
  EXPECT_EQ(listed.other_protocol, 2);
  EXPECT_EQ(listed.reevaluated, 0);
  EXPECT_EQ(read_run_summary(cell + "/summary.json").eval.linear, "adam");
  ExperimentOptions opt;
  opt.reevaluate = true;
  const auto again = run_experiment(sgd, "test", opt);
  EXPECT_EQ(again.reevaluated, 2);
  EXPECT_EQ(again.trained, 0);
  const auto j = nlohmann::json::parse(read_text(cell + "/summary.json"));
  EXPECT_EQ(j["eval"]["linear"], "sgd-grid");
  EXPECT_EQ(j["eval"]["linear_select"], "val");
  ASSERT_EQ(j["eval_history"].size(), 2u);  // the end-of-training figures, then the first re-evaluation
  EXPECT_EQ(j["eval_history"][0]["linear"], "adam");
  EXPECT_EQ(j["eval_history"][0]["linear_top1"].get<double>(), trained.eval.linear_top1);
  EXPECT_EQ(again.results[0].metrics.at("linear_top1"), j["eval"]["linear_top1"].get<double>());
  // Up to date now: a third run evaluates nothing.
  EXPECT_EQ(run_experiment(sgd, "test", opt).reevaluated, 0);
}
