// FIFO queue of embeddings (NNCLR's support set). The rows and the write
// pointer are module buffers, so they are saved and restored with the
// method's checkpoint.
#pragma once

#include <torch/torch.h>

namespace gps {

class FeatureQueueImpl : public torch::nn::Module {
 public:
  // size rows of dimension dim, initialised to L2-normalised Gaussian noise
  // (solo-learn) so that a search before the queue has filled is defined.
  FeatureQueueImpl(int64_t size, int64_t dim);

  // Writes z [B, dim] at the pointer and advances it by B modulo size(), so
  // the oldest rows are overwritten first. size() must be divisible by B
  // (whole batches never straddle the end); throws gps::Error naming
  // method.queue_size otherwise. z is stored detached, as float32.
  void push(const torch::Tensor& z);

  // For each row of z [B, dim]: the queue row with the largest inner product
  // (cosine similarity when both are normalised). Returns [B, dim], detached.
  // When `index` is not null it receives the chosen rows, [B] int64.
  torch::Tensor nearest(const torch::Tensor& z, torch::Tensor* index = nullptr) const;

  int64_t size() const { return rows.size(0); }
  int64_t pointer() const { return ptr.item<int64_t>(); }  // reads the device: for tests and logs only

  torch::Tensor rows;  // [size, dim] float32
  torch::Tensor ptr;   // [1] int64: next row to write
};
TORCH_MODULE(FeatureQueue);

}  // namespace gps
