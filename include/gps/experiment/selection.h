// Best-of-grid, chosen on validation: the paper reports each method's best
// cell over its hyperparameter grid (lr, weight decay, k). Per group of
// cells (every grid key but the swept ones and the averaged one: method x
// plain/GPS x augmentation in a Table 2 grid), the swept values whose cells
// have the best mean *validation* top-1 (eval.linear_val_top1: the linear
// probe's validation split of train) are chosen, and those cells' test
// figures are reported. The test split never takes part in the choice.
#pragma once

#include "gps/experiment/results.h"

#include <string>
#include <utility>
#include <vector>

namespace gps {

struct Selection {
  std::vector<std::pair<std::string, std::string>> group;   // key, label of the group
  std::vector<std::pair<std::string, std::string>> chosen;  // swept key, chosen label (empty: none chosen)
  MeanStd val, test, knn;             // linear_val_top1, linear_top1, knn_top1 of the chosen cells (%)
  std::vector<std::string> cell_ids;  // the chosen cells
  int64_t candidates = 0;             // swept combinations with a validation figure
};

// `swept`: the keys chosen over (each a grid axis, not `average`). Groups
// and candidates follow grid order; ties go to the first. Cells without a
// validation figure (linear_val_top1 < 0: eval.linear=adam without
// linear_select=val) are never candidates.
std::vector<Selection> select_on_validation(const ResultTables& t, const std::vector<std::string>& swept,
                                            const std::string& average);

// The selected table (markdown): group, chosen values, validation and test
// top-1, kNN top-1, candidates.
std::string selection_markdown(const std::vector<Selection>& s, const std::vector<std::string>& swept);

}  // namespace gps
