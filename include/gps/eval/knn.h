// Weighted k-nearest-neighbour classifier on frozen features (the protocol
// of solo-learn / InstDisc): cosine similarity s, weight exp(s / T), class
// score = sum of the weights of the k neighbours with that class.
#pragma once

#include <torch/torch.h>

namespace gps {

// train_x: [N, D], train_y: [N] int64 in [0, C), test_x: [M, D] float32.
// Returns predicted classes [M] int64. Ties go to the lower class id.
torch::Tensor knn_predict(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                          int64_t k, double temperature, int64_t num_classes);

// Top-1 accuracy in [0, 1] of knn_predict against test_y.
double knn_accuracy(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                    const torch::Tensor& test_y, int64_t k, double temperature, int64_t num_classes);

}  // namespace gps
