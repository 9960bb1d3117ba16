// k-nearest-neighbour search: FAISS exact (flat), approximate (IVF-Flat:
// FAISS k-means lists scanned by matmul; FAISS HNSW-Flat), or a LibTorch
// brute force that runs on the tensors' device.
#pragma once

#include "gps/neighbors/neighbor_config.h"

#include <torch/torch.h>

#include <string>

namespace gps {

struct KnnResult {
  torch::Tensor ids;    // [Q, k] int64, nearest first; -1 where fewer than k were found
  torch::Tensor dists;  // [Q, k] float32: squared L2 (metric l2), or squared L2
                        // between L2-normalised vectors = 2 - 2 cos (metric cosine);
                        // FLT_MAX where the id is -1
  // What answered: "exact", "ivf(nlist=..,nprobe=..)", ...; with index auto
  // at scale, the recall measured against exact search (see knn_search).
  std::string note;
  double recall = -1;   // index auto, approximate: recall@k on the sampled queries (-1: not measured)
};

// The approximate index `index: auto` picks at scale; chosen from
// bench/bench_table_scale on 2 cores (see README, neighbour search).
inline constexpr const char* kAutoApproxIndex = "ivf";

// The search of `neighbors.*` as a run uses it: cfg.search with the torch
// backend's device resolved (auto = CUDA when present); "" for faiss.
SearchOptions search_options(const NeighborConfig& cfg);

// The index `opts` resolves to for n base vectors: "exact", "ivf" or "hnsw".
std::string resolved_index(const SearchOptions& opts, int64_t n);

// Text that changes whenever the search would return different neighbours
// for n base vectors (resolved index and its parameters); part of the table
// fingerprint.
std::string describe_search(const SearchOptions& opts, int64_t n);

// Searches `queries` [Q, D] against `base` [N, D] (float, same device; the
// faiss backend copies to CPU float32). Ties are broken by the backend (FAISS
// exact: lower id first in practice; torch: unspecified). Approximate indexes
// may miss true neighbours and return -1 for unfilled slots. With ivf and
// queries the same tensor as base (a table build), lists are probed per list
// (see src/neighbors/knn_ivf.h): fast, and as good as per-query probes on
// clustered embeddings, worse on structureless data (use hnsw or exact there). Queries are
// processed in batches of opts.batch_size.
// index auto at approx_threshold or more base vectors: the IVF result is
// checked on opts.recall_sample queries (seeded) against exact search;
// recall@k = share of the IVF neighbours within the exact k-th distance.
// Below opts.min_recall, nprobe is raised 4x and the search redone; once
// nprobe would pass nlist / 2, exact search answers. `note` and `recall`
// say what was measured and used. Throws gps::Error on shape
// mismatch, k < 1 or a bad option (the message names the neighbors.* key).
KnnResult knn_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, const SearchOptions& opts);

// Exact FAISS search with the given metric (the options' defaults).
KnnResult knn_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, const std::string& metric);

// The LibTorch brute force: blocked ||q||^2 + ||b||^2 - 2 q.b^T with a running
// top-k, on the device of `base`; results on that device. Temporary memory is
// about batch_size x 16384 floats per block.
KnnResult knn_search_torch(const torch::Tensor& base, const torch::Tensor& queries, int64_t k,
                           const std::string& metric, int64_t batch_size = 4096);

}  // namespace gps
