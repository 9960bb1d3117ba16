// IVF-Flat search (private to src/neighbors): FAISS k-means coarse quantiser,
// inverted lists scanned with blocked matmul instead of FAISS's per-vector
// scan (Debian's generic FAISS build scans at ~1.5 GFLOP/s; BLAS is ~20x faster).
#pragma once

#include "gps/neighbors/knn_search.h"

namespace gps::detail {

// base [N, D], queries [Q, D]: CPU float32, contiguous, already normalised for
// cosine. Centroids: k-means (10 iterations, seed) on `train_rows` of base.
// Results as FAISS IndexIVFFlat with the same centroids: exact squared L2
// inside the nprobe nearest lists of each query; -1 / FLT_MAX where fewer
// than k vectors lie in those lists.
// self_join (queries are the base rows, as for a neighbour table): lists are
// probed per list, not per query -- the members of list A search the nprobe
// lists nearest to A's centroid (A first), one dense matmul per list. Same
// recall as per-query probes on clustered data; lower on structureless data
// (20k x 32 Gaussian noise, 566 lists, nprobe 16: 0.33 vs 0.55).
KnnResult ivf_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, int64_t nlist,
                     int64_t nprobe, const torch::Tensor& train_rows, int64_t seed, int64_t batch_size,
                     bool self_join);

}  // namespace gps::detail
