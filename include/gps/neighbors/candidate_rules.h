// Candidate rules: which of an image's nearest neighbours may be its GPS
// positive (paper eq. 3; docs/reference-behaviour.md section 1). Applied while the
// table is built; the result is an ordinary NeighborTable (rows may hold
// fewer than K valid candidates; an emptied row falls back to {i}).
#pragma once

#include "gps/neighbors/knn_search.h"
#include "gps/neighbors/neighbor_table.h"

#include <string>
#include <vector>

namespace gps {

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
