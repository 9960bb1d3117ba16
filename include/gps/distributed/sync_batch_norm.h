// Batch norm whose training statistics cover the global batch when several
// processes train together (dist::active_group()), so that W processes with
// B/W rows each normalise exactly as one process with B rows would. Without
// a group, or in eval mode, it computes torch's batch norm unchanged.
#pragma once

#include <torch/torch.h>

namespace gps {

// torch's BatchNorm1d / BatchNorm2d (any [N, C, ...] input) as a module for
// Sequentials (heads, downsample branches), with the same parameter and
// buffer names, order and initial values, so checkpoints and exports do not
// change. It is its own class rather than a subclass of torch's: libtorch
// does not export every virtual of its batch-norm base, so a derived class
// does not link.
struct SyncBatchNormImpl : torch::nn::Cloneable<SyncBatchNormImpl> {
  explicit SyncBatchNormImpl(const torch::nn::BatchNormOptions& options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias;                                      // affine
  torch::Tensor running_mean, running_var, num_batches_tracked;   // track_running_stats
};
TORCH_MODULE(SyncBatchNorm);

// For batch-norm members typed as torch's modules: bn(x), with statistics
// synchronised over the active group in training mode.
torch::Tensor batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);
torch::Tensor batch_norm(torch::nn::BatchNorm1dImpl& bn, const torch::Tensor& x);

}  // namespace gps
