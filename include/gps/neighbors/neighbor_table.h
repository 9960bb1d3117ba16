// The neighbour table: for every training image, its candidate positives.
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

struct NeighborTable {
  torch::Tensor ids;     // [N, K] int64: candidates of image i in row i (first counts[i] valid)
  torch::Tensor dists;   // [N, K] float32: distance of each candidate in prior space
  torch::Tensor counts;  // [N] int64 in [1, K]: number of valid candidates per row
  std::string search;    // how the neighbours were searched (KnnResult::note: index, measured recall)

  int64_t size() const { return ids.size(0); }
  int64_t width() const { return ids.size(1); }
  // Throws gps::Error unless shapes, dtypes and ranges are consistent with n images.
  void validate(int64_t n, const std::string& what) const;
  // True when every row's only candidate is the image itself (plain SSL).
  bool is_self_only() const;
};

// The table of plain SSL: every image's only candidate is itself.
NeighborTable self_table(int64_t n);

namespace dist {
class Group;
}
// Several processes: rank 0's table (ids, distances, counts) on every rank.
void broadcast_table(dist::Group& group, NeighborTable& table);

// The GPS table from prior embeddings `emb` [N, D] (float32):
//  exclude_self = false: row i = {i, NN1, ..., NN(k-1)} (i first, distance 0)
//  exclude_self = true:  row i = {NN1, ..., NNk}, the k nearest other images.
// "Other" is by index: exact duplicates of i are kept as neighbours, and i is
// placed/removed correctly even when duplicates displace it from the top of
// the search results. Requires 1 <= k < N (exclude_self) or k <= N.
// Exact FAISS search, no further rules; candidate_rules.h has the general form.
NeighborTable build_table(const torch::Tensor& emb, int64_t k, bool exclude_self, const std::string& metric);

// Writes ids.npy, dists.npy, counts.npy and meta.json (holding `fingerprint`)
// into folder `dir` (created). Files are written under temporary names and
// renamed, so a crash never leaves a half table that looks complete.
void save_table(const std::string& dir, const NeighborTable& t, const std::string& fingerprint);

// Loads a table saved by save_table when its meta.json fingerprint equals
// `fingerprint`; returns false (and leaves `out` alone) when the folder is
// absent or the fingerprint differs. Throws gps::Error on corrupt files.
bool load_table(const std::string& dir, const std::string& fingerprint, NeighborTable& out);

}  // namespace gps

namespace gps {

// Share of candidates j != i (over all rows) whose label equals the anchor's:
// how often a GPS positive is of the same class. labels: [N] int64.
// Returns NaN when no row has a candidate other than itself.
double candidate_label_purity(const NeighborTable& t, const torch::Tensor& labels);

}  // namespace gps
