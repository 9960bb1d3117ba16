// Exact k-nearest-neighbour search (FAISS flat index).
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

struct KnnResult {
  torch::Tensor ids;    // [Q, k] int64, nearest first; -1 where fewer than k exist
  torch::Tensor dists;  // [Q, k] float32: squared L2 (metric l2), or squared L2
                        // between L2-normalised vectors = 2 - 2 cos (metric cosine)
};

// Searches `queries` [Q, D] against `base` [N, D] (float32, CPU). metric is
// "l2" or "cosine". Ties are broken by FAISS (lower id first in practice).
// Throws gps::Error on shape mismatch or k < 1.
KnnResult knn_search(const torch::Tensor& base, const torch::Tensor& queries, int64_t k, const std::string& metric);

}  // namespace gps
