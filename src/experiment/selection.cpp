#include "gps/experiment/selection.h"

#include "gps/core/check.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace gps {

namespace {

size_t index_of(const ResultTables& t, const std::string& key) {
  return size_t(std::find(t.keys.begin(), t.keys.end(), key) - t.keys.begin());
}

// Metric values of the finished cells in `ids`; validation figures < 0 mean "none".
MeanStd over(const ResultTables& t, const std::vector<size_t>& ids, const std::string& metric) {
  std::vector<double> v;
  for (size_t i : ids) {
    const auto it = t.cells[i].metrics.find(metric);
    if (it == t.cells[i].metrics.end() || !std::isfinite(it->second)) continue;
    if (metric == "linear_val_top1" && it->second < 0) continue;
    v.push_back(it->second);
  }
  return mean_std(v);
}

// The position of a cell's labels on `keys` in grid order (for ordering groups).
std::vector<size_t> rank(const ResultTables& t, const CellResult& c, const std::vector<size_t>& keys) {
  std::vector<size_t> r;
  for (size_t k : keys)
    r.push_back(size_t(std::find(t.orders[k].begin(), t.orders[k].end(), c.labels[k]) - t.orders[k].begin()));
  return r;
}

}  // namespace

std::vector<Selection> select_on_validation(const ResultTables& t, const std::vector<std::string>& swept,
                                            const std::string& average) {
  std::vector<size_t> S;
  for (const auto& k : swept) {
    const size_t i = index_of(t, k);
    GPS_CHECK(i < t.keys.size(), "experiment.select: '", k, "' is not a grid key");
    GPS_CHECK(k != average, "experiment.select: '", k, "' is experiment.average; a key is averaged or selected");
    S.push_back(i);
  }
  const size_t A = index_of(t, average);
  std::vector<size_t> G;  // group keys: all but the swept and the averaged
  for (size_t k = 0; k < t.keys.size(); ++k)
    if (k != A && std::find(S.begin(), S.end(), k) == S.end()) G.push_back(k);

  // group rank -> candidate rank -> cell indices (finished only)
  std::map<std::vector<size_t>, std::map<std::vector<size_t>, std::vector<size_t>>> groups;
  std::map<std::vector<size_t>, size_t> group_example;
  for (size_t i = 0; i < t.cells.size(); ++i) {
    const auto g = rank(t, t.cells[i], G);
    group_example.emplace(g, i);
    auto& cands = groups[g];
    auto& ids = cands[rank(t, t.cells[i], S)];
    if (t.cells[i].status == "finished") ids.push_back(i);
  }
  std::vector<Selection> out;
  for (const auto& [g, cands] : groups) {
    Selection s;
    const CellResult& ex = t.cells[group_example.at(g)];
    for (size_t k : G) s.group.emplace_back(t.keys[k], ex.labels[k]);
    const std::vector<size_t>* best = nullptr;
    double best_val = -INFINITY;
    for (const auto& [c, ids] : cands) {
      const MeanStd v = over(t, ids, "linear_val_top1");
      if (v.n == 0) continue;
      ++s.candidates;
      if (v.mean > best_val) best_val = v.mean, best = &ids;  // strict: ties keep the first in grid order
    }
    if (best) {
      const CellResult& c = t.cells[best->front()];
      for (size_t k : S) s.chosen.emplace_back(t.keys[k], c.labels[k]);
      s.val = over(t, *best, "linear_val_top1");
      s.test = over(t, *best, "linear_top1");
      s.knn = over(t, *best, "knn_top1");
      for (size_t i : *best) s.cell_ids.push_back(t.cells[i].id);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string selection_markdown(const std::vector<Selection>& sel, const std::vector<std::string>& swept) {
  std::string keys;
  for (const auto& k : swept) keys += (keys.empty() ? "" : ", ") + k;
  std::string md = "## Best of grid, chosen on validation\n\n"
                   "Per row, the values of " + keys + " whose cells have the best mean validation top-1 (the "
                   "linear probe's validation split of train); the test figures are those cells'. The test split "
                   "takes no part in the choice.\n\n";
  md += "| group | chosen | validation top-1 (%) | linear top-1 (%) | kNN top-1 (%) | candidates |\n";
  md += "|---|---|---:|---:|---:|---:|\n";
  bool missing = false;
  for (const auto& s : sel) {
    std::string group, chosen;
    for (const auto& [k, v] : s.group) group += (group.empty() ? "" : " / ") + display_label(k, v);
    for (const auto& [k, v] : s.chosen) chosen += (chosen.empty() ? "" : ", ") + k + " = " + v;
    if (s.chosen.empty()) chosen = "–", missing = true;
    md += "| " + (group.empty() ? std::string("all") : group) + " | " + chosen + " | " + format_mean_std(s.val, 2) +
          " | " + format_mean_std(s.test, 2) + " | " + format_mean_std(s.knn, 2) + " | " +
          std::to_string(s.candidates) + " |\n";
  }
  if (missing)
    md += "\n–: no finished cell with a validation figure (eval.linear=sgd-grid, or eval.linear_select=val with "
          "the Adam probe, gives one).\n";
  return md + "\n";
}

}  // namespace gps
