// Momentum targets: BYOL's target, MoCo v3's momentum encoder and DINO's
// teacher are copies of online modules that get no gradient and follow
// them by EMA, theta' = tau theta' + (1 - tau) theta, with tau rising on
// BYOL's cosine from method.tau_base to 1.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <utility>
#include <vector>

namespace gps {

// BYOL's EMA rate at training progress t/T in [0, 1]:
//   tau = 1 - (1 - tau_base) (cos(pi t/T) + 1) / 2   (tau_base at 0, 1 at the end).
double byol_tau(double tau_base, double progress);

// target <- tau * target + (1 - tau) * online, on parameters only, matched by
// registration order (the modules must have the same structure). Buffers
// (batch-norm running statistics) are left alone, as in solo-learn: the
// target keeps the running statistics of its own forward passes.
void ema_update(torch::nn::Module& online, torch::nn::Module& target, double tau);
// The same with the rate in a one-value tensor on the parameters' device
// (the tau buffer): no host read of the rate, so no wait for the device.
void ema_update(torch::nn::Module& online, torch::nn::Module& target, const torch::Tensor& tau);

// A momentum target starts as a copy of the online module and gets no gradients.
void init_target(torch::nn::Module& online, torch::nn::Module& target);
// Copies the online module's buffers (batch-norm statistics) into the target
// (after model.init_from set the online backbone).
void copy_buffers(torch::nn::Module& online, torch::nn::Module& target);

// The (online, target) pairs of one method and their rate. The rate is a
// [1] float64 buffer "tau" of the method, so checkpoints keep it.
class MomentumTargets {
 public:
  MomentumTargets() = default;
  // Registers the "tau" buffer on `owner` at tau_base; throws gps::Error
  // naming method.tau_base outside [0, 1].
  MomentumTargets(torch::nn::Module& owner, double tau_base);
  // `target` becomes a copy of `online` without gradients. Add the backbone
  // pair first: sync_backbone() copies it again.
  void add(std::shared_ptr<torch::nn::Module> online, std::shared_ptr<torch::nn::Module> target);
  // Every pair's EMA at the current rate, then the rate of the next update:
  // byol_tau(progress). Call after each optimiser step.
  void update(double progress);
  // After model.init_from set the online backbone: the target backbone takes
  // its weights and its buffers.
  void sync_backbone();
  // The rate of the next update, [1] on the method's device.
  const torch::Tensor& tau() const { return tau_; }

 private:
  double tau_base_ = 0;
  torch::Tensor tau_;
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, std::shared_ptr<torch::nn::Module>>> pairs_;
};

}  // namespace gps
