// Candidate rules: which of an image's nearest neighbours may be its GPS
// positive (reference semantics section 1, paper eq. 3). Applied while the
// table is built; the result is an ordinary NeighborTable (rows may hold
// fewer than K valid candidates; an emptied row falls back to {i}).
#pragma once

#include "gps/config/config.h"
#include "gps/neighbors/knn_search.h"
#include "gps/neighbors/neighbor_table.h"

#include <string>
#include <vector>

namespace gps {

struct CandidateRules {
  int64_t k = 4;              // table width (reference num_nns_choice)
  bool exclude_self = false;  // false: row i = {i, NN1..NN(k-1)}; true: {NN1..NNk}
  // Distance ball (paper eq. 3): keep neighbours with squared distance <= tau.
  //  fixed:        tau = `tau`; tau < 0 disables the ball (reference nn_threshold = -1)
  //  adaptive:     one tau for all rows = mean + tau_std * std over the first
  //                tau_window distances of every row (reference main_nn.py:
  //                dist[:, 1:threshold_k + 1], population std)
  //  adaptive_row: tau_i = the same statistics over row i's first tau_window distances
  // "First distances" are those of the nearest other images (self removed by
  // index), i.e. reference columns 1..tau_window when i comes first.
  std::string tau_mode = "fixed";
  double tau = -1;
  double tau_std = 1;        // reference threshold_mode_type: mean+std = 1, mean = 0, mean-std = -1
  int64_t tau_window = 20;   // reference threshold_k; clamped to N - 1
  // Mutual kNN: keep j (!= i) in row i only when i is among j's k candidates
  // (the kNN rows before the ball).
  bool mutual = false;
};

// The rules of `neighbors.*`.
CandidateRules candidate_rules(const NeighborConfig& cfg);

// The GPS table of `emb` [N, D] (float32) under `rules`, searched with `search`:
//  1. row i's kNN list: its k (exclude_self) or k - 1 nearest other images,
//     self removed by index so duplicates of i stay neighbours;
//  2. mutual: drop j unless i is in j's list;
//  3. ball: drop j with dist > tau_i;
//  4. row = [i (dist 0)] + kept (exclude_self = false), or kept, or [i] when
//     nothing is kept (exclude_self = true: an empty ball falls back to self).
// Width K = k; counts[i] = valid entries. An approximate index may find fewer
// than k neighbours: such rows are shorter. Throws gps::Error (naming the
// neighbors.* key) when k does not fit N or a rule is malformed.
NeighborTable build_table(const torch::Tensor& emb, const CandidateRules& rules, const SearchOptions& search);

// Combines tables of the same N built from different priors, row by row, on
// the candidates other than i: "intersection" keeps those present in every
// table, "union" those present in any (order: table 0's, then new ones of
// table 1, ...; each keeps the distance of the first table holding it, so
// distances of different priors mix in one row). Then i is put first when
// !exclude_self, or alone when exclude_self and nothing is left. Width = the
// longest row. Throws gps::Error for a bad mode or mismatched tables.
NeighborTable combine_tables(const std::vector<NeighborTable>& tables, const std::string& mode, bool exclude_self);

// build_table on each of `embs` (same N, any D), then combine_tables.
NeighborTable build_table_multi(const std::vector<torch::Tensor>& embs, const CandidateRules& rules,
                                const SearchOptions& search, const std::string& mode);

}  // namespace gps
