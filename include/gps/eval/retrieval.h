// Retrieval Recall@k with leave-one-out queries inside one split (the R-HID
// protocol): every image queries all the others; a hit at k when one of its
// k nearest other images has its label.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace gps {

// x: [N, D] float features, labels: [N] int64, ks: values of k >= 1.
// metric: "cosine" (default; features L2-normalised) or "l2". The order of
// exactly tied neighbours is unspecified. Returns k -> recall in [0, 1].
std::map<int64_t, double> recall_at_k(const torch::Tensor& x, const torch::Tensor& labels,
                                      const std::vector<int64_t>& ks, const std::string& metric = "cosine");

// Accuracy of `pred` per class of `labels` ([N] int64 each), in [0, 1];
// classes absent from labels get NaN.
std::vector<double> per_class_accuracy(const torch::Tensor& pred, const torch::Tensor& labels, int64_t num_classes);

}  // namespace gps
