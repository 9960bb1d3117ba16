// Best-of-grid chosen on validation (experiment.select): the choice follows
// the validation top-1 even where the test split would choose otherwise.
#include "gps/experiment/grid.h"
#include "gps/experiment/results.h"
#include "gps/experiment/selection.h"
#include "test_util.h"

#include <gtest/gtest.h>

using namespace gps;

namespace {

// keys: method.name, optim.lr, train.seed; val and test top-1 per cell.
ResultTables table(const std::vector<std::tuple<std::string, std::string, std::string, double, double>>& rows) {
  ResultTables t;
  t.keys = {"method.name", "optim.lr", "train.seed"};
  t.orders = {{"simclr", "byol"}, {"0.1", "0.3", "1"}, {"0", "1"}};
  for (const auto& [m, lr, seed, val, test] : rows) {
    CellResult c;
    c.id = m + "-lr" + lr + "-seed" + seed;
    c.labels = {m, lr, seed};
    c.status = "finished";
    c.metrics = {{"linear_val_top1", val}, {"linear_top1", test}, {"knn_top1", test - 1}};
    t.cells.push_back(c);
  }
  return t;
}

}  // namespace

TEST(Selection, PicksByValidationWhereTestDisagrees) {
  // simclr: lr 0.3 is best on validation, lr 1 on test -> 0.3.
  // byol: lr 0.1 best on validation (mean over seeds), lr 0.3 on test -> 0.1.
  const auto t = table({{"simclr", "0.1", "0", 60, 70},
                        {"simclr", "0.3", "0", 80, 71},
                        {"simclr", "1", "0", 79, 90},
                        {"byol", "0.1", "0", 75, 60},
                        {"byol", "0.1", "1", 73, 62},
                        {"byol", "0.3", "0", 70, 95},
                        {"byol", "0.3", "1", 76, 95}});
  const auto s = select_on_validation(t, {"optim.lr"}, "train.seed");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].group, (std::vector<std::pair<std::string, std::string>>{{"method.name", "simclr"}}));
  EXPECT_EQ(s[0].chosen, (std::vector<std::pair<std::string, std::string>>{{"optim.lr", "0.3"}}));
  EXPECT_DOUBLE_EQ(s[0].test.mean, 71);
  EXPECT_DOUBLE_EQ(s[0].val.mean, 80);
  EXPECT_EQ(s[0].candidates, 3);
  EXPECT_EQ(s[1].chosen, (std::vector<std::pair<std::string, std::string>>{{"optim.lr", "0.1"}}));
  EXPECT_EQ(s[1].test.n, 2);
  EXPECT_DOUBLE_EQ(s[1].test.mean, 61);
  EXPECT_EQ(s[1].cell_ids, (std::vector<std::string>{"byol-lr0.1-seed0", "byol-lr0.1-seed1"}));
  const std::string md = selection_markdown(s, {"optim.lr"});
  EXPECT_NE(md.find("| SimCLR | optim.lr = 0.3 | 80.00 | 71.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| BYOL | optim.lr = 0.1 | 74.00 ± 1.41 | 61.00 ± 1.41 |"), std::string::npos) << md;
}

TEST(Selection, TiesGoFirstAndCellsWithoutValidationAreNoCandidates) {
  auto t = table({{"simclr", "0.1", "0", 80, 70}, {"simclr", "0.3", "0", 80, 99}, {"simclr", "1", "0", -1, 100}});
  t.cells.push_back(t.cells[0]);  // a pending cell is no candidate either
  t.cells.back().labels = {"byol", "0.1", "0"};
  t.cells.back().status = "pending";
  const auto s = select_on_validation(t, {"optim.lr"}, "train.seed");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].chosen[0].second, "0.1");  // the tie goes to the first in grid order
  EXPECT_EQ(s[0].candidates, 2);            // lr 1 has no validation figure: never chosen, whatever its test
  EXPECT_TRUE(s[1].chosen.empty());
  EXPECT_NE(selection_markdown(s, {"optim.lr"}).find("no finished cell with a validation figure"), std::string::npos);
  EXPECT_NE(test::error_of([&] { select_on_validation(t, {"optim.wd"}, "train.seed"); }).find("optim.wd"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { select_on_validation(t, {"train.seed"}, "train.seed"); }).find("averaged"),
            std::string::npos);
}

TEST(Selection, TheExperimentFileChecksItsSelectKeys) {
  const std::string grid = "grid:\n  method.name: [simclr]\n  optim.lr: [0.1, 0.3]\n";
  const auto spec = parse_experiment("experiment:\n  select: [optim.lr]\n" + grid, "e.yaml", {}, "e");
  EXPECT_EQ(spec.select, (std::vector<std::string>{"optim.lr"}));
  const std::string e1 =
      test::error_of([&] { parse_experiment("experiment:\n  select: [neighbors.k]\n" + grid, "e.yaml", {}, "e"); });
  EXPECT_NE(e1.find("neighbors.k"), std::string::npos) << e1;
  EXPECT_NE(e1.find("not a grid key"), std::string::npos) << e1;
  const std::string e2 = test::error_of([&] {
    parse_experiment("experiment:\n  select: [optim.lr]\n  rows: [optim.lr]\n" + grid, "e.yaml", {}, "e");
  });
  EXPECT_NE(e2.find("row or column"), std::string::npos) << e2;
}

TEST(Selection, TheTablesMarkTheChosenCells) {
  auto t = table({{"simclr", "0.1", "0", 60, 70}, {"simclr", "0.3", "0", 80, 71}});
  t.cells[1].selected = true;
  const std::string csv = cells_csv(t);
  EXPECT_NE(csv.find(",status,resumed,selected,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("simclr-lr0.3-seed0,simclr,0.3,0,finished,false,true,"), std::string::npos) << csv;
  ExperimentSpec spec;
  spec.name = "e";
  spec.rows = {"method.name"};
  spec.columns = {"optim.lr"};  // shown as columns here, to see the mark
  const std::string md = results_markdown(t, spec);
  EXPECT_NE(md.find("| SimCLR | 70.00 | 71.00 † |"), std::string::npos) << md;  // linear top-1: lr 0.3 marked
  EXPECT_NE(md.find("†: chosen on validation"), std::string::npos) << md;
}
