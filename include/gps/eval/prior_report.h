// How good is a prior before any GPU time is spent on it: label purity of
// its nearest neighbours at several k, the sizes and purity of the
// candidate sets the configured rules give, the linear-probe and kNN
// accuracy of its own embeddings (the paper's "LP" column), and a picture
// of images next to their nearest neighbours (paper figures 1, 2c, 2d).
#pragma once

#include "gps/data/dataset.h"
#include "gps/eval/eval_config.h"
#include "gps/eval/evaluate.h"
#include "gps/neighbors/knn_search.h"
#include "gps/neighbors/neighbor_config.h"
#include "gps/prior/prior.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace gps {

// Per k in `ks` (each >= 1, < N): the share, in %, of the k nearest other
// images (by index: the image itself is dropped, duplicates kept) whose
// label equals the anchor's, averaged over all anchors. One search of
// max(ks) + 1 neighbours with `opts`.
std::vector<double> knn_label_purity(const torch::Tensor& emb, const torch::Tensor& labels,
                                     const std::vector<int64_t>& ks, const SearchOptions& opts);

// [3, H, W] uint8: one row per entry of `anchors` ([R] int64): the image,
// then the images `neighbors` ([R, K] int64, -1 = empty cell) names. Cells
// are upscaled (nearest) to at least 56 px; with labels, each neighbour gets
// a green frame when its label equals the anchor's, red otherwise (the
// anchor's frame is blue).
torch::Tensor neighbor_grid(const Dataset& d, const torch::Tensor& anchors, const torch::Tensor& neighbors);

struct PriorReportOptions {
  std::vector<int64_t> ks = {1, 4, 9, 16, 32, 64};
  int64_t grid_rows = 10;       // anchors in the picture
  int64_t grid_neighbors = 8;   // neighbours per anchor in the picture
  bool evaluate = true;         // linear probe + kNN of the prior's embeddings (needs test labels)
  uint64_t seed = 0;            // anchors of the picture, probe
};

struct PriorReport {
  std::string prior;            // Prior::describe()
  std::string data;             // train split name
  int64_t images = 0, dim = 0;
  double embed_seconds = 0;
  std::vector<int64_t> ks;
  std::vector<double> purity;   // % per k (empty without labels)
  // The candidate sets of `neighbors.*` (k, tau, mutual, combine ...).
  int64_t table_k = 0;
  double candidates_mean = 0;
  int64_t candidates_min = 0, candidates_max = 0;
  std::vector<int64_t> candidates_histogram;  // [size] -> rows with that many candidates (index 0 unused)
  double candidate_purity = -1;  // % of candidates j != i sharing the label (-1: no labels or none)
  EvalResult eval;               // done = false when not evaluated
  torch::Tensor grid;            // the picture ([3, H, W] uint8)

  nlohmann::json to_json() const;
  std::string to_markdown(const std::string& grid_file) const;
};

// Fits `prior` on `train`, embeds train (and `test` when given and
// opts.evaluate), and fills the report. `cache_dir` holds the neighbour
// table (as for training). Throws gps::Error for ks out of range.
PriorReport make_prior_report(Prior& prior, const Dataset& train, const Dataset* test,
                              const NeighborConfig& neighbors, const EvalConfig& eval, const std::string& cache_dir,
                              const PriorReportOptions& opts);

// Writes report.json, report.md and neighbours.png into `dir` (created).
void write_prior_report(const std::string& dir, const PriorReport& r);

}  // namespace gps
