// Weighted k-nearest-neighbour classifier on frozen features (the protocol
// of solo-learn / InstDisc): similarity s, weight exp(s / T), class score =
// sum of the weights of the k neighbours with that class. metric "cosine":
// s = cosine similarity (features L2-normalised); "l2": s = -squared L2
// distance of the raw features, and the weights of a query are taken relative
// to its nearest neighbour (exp((s - s_max) / T), the same argmax, no underflow).
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

// train_x: [N, D], train_y: [N] int64 in [0, C), test_x: [M, D] float32.
// Returns predicted classes [M] int64. Ties go to the lower class id.
// Throws gps::Error for bad shapes, k < 1 or an unknown metric.
torch::Tensor knn_predict(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                          int64_t k, double temperature, int64_t num_classes, const std::string& metric = "cosine");

// Top-1 accuracy in [0, 1] of knn_predict against test_y.
double knn_accuracy(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                    const torch::Tensor& test_y, int64_t k, double temperature, int64_t num_classes,
                    const std::string& metric = "cosine");

}  // namespace gps
