// LARS (layer-wise adaptive rate scaling) as in solo-learn's LARS with
// clip_lr and exclude_bias_n_norm, a torch::optim::Optimizer so that the
// trainer sets per-group lr through set_lr() and checkpoints save its
// momentum buffers with save()/load().
//
// For each parameter p with gradient g, in a group with lr, wd, eta, eps:
//   d = g
//   if (p has >= 2 dims, or !exclude_bias_n_norm) and ||p|| > 0 and ||g|| > 0:
//     r = eta ||p|| / (||g|| + wd ||p|| + eps)       (trust ratio)
//     if clip_lr: r = min(r / lr, 1)                 (so the step is min(eta.., lr))
//     d = r (g + wd p)
//   buf = d at the first step, then momentum * buf + d
//   p -= lr * buf
// So parameters with <= 1 dims (biases, norms) get plain momentum SGD with
// neither trust ratio nor weight decay when exclude_bias_n_norm; and, as in
// the reference, a tensor whose norm or gradient norm is 0 gets no decay.
#pragma once

#include <torch/torch.h>

namespace gps {

struct LARSOptions : public torch::optim::OptimizerCloneableOptions<LARSOptions> {
  LARSOptions(double lr = 0.1) : lr_(lr) {}
  TORCH_ARG(double, lr);
  TORCH_ARG(double, momentum) = 0.9;
  TORCH_ARG(double, weight_decay) = 0.0;
  TORCH_ARG(double, eta) = 0.02;
  TORCH_ARG(double, eps) = 1e-8;       // keeps the trust ratio finite
  TORCH_ARG(bool, clip_lr) = true;
  TORCH_ARG(bool, exclude_bias_n_norm) = true;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

struct LARSParamState : public torch::optim::OptimizerCloneableParamState<LARSParamState> {
  TORCH_ARG(torch::Tensor, momentum_buffer);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

class LARS : public torch::optim::Optimizer {
 public:
  // Each group may carry its own LARSOptions; groups without take `defaults`.
  // Throws gps::Error for a negative lr, momentum, weight decay or eta.
  LARS(std::vector<torch::optim::OptimizerParamGroup> param_groups, LARSOptions defaults);
  LARS(std::vector<torch::Tensor> params, LARSOptions defaults);

  // One update of every parameter that has a gradient; closure as in torch.
  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace gps
