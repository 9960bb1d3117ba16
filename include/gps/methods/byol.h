// BYOL: online backbone + projector + predictor regress an EMA target
// (backbone + projector copy). Loss 2 - 2 cos(p, stopgrad z') summed over
// both directions; the target follows the online weights after each step.
#pragma once

#include "gps/methods/method.h"

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
// (BYOL's tau buffer): no host read of the rate, so no wait for the device.
void ema_update(torch::nn::Module& online, torch::nn::Module& target, const torch::Tensor& tau);

// A momentum target starts as a copy of the online module and gets no
// gradients (BYOL's target, MoCo v3's momentum encoder).
void init_target(torch::nn::Module& online, torch::nn::Module& target);
// Copies the online module's buffers (batch-norm statistics) into the target
// (after model.init_from set the online backbone).
void copy_buffers(torch::nn::Module& online, torch::nn::Module& target);

class BYOLImpl : public MethodImpl {
 public:
  BYOLImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  // EMA update with the current tau, then tau advances to byol_tau(progress).
  void on_backbone_loaded() override;
  void after_step(double progress) override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "byol"; }
  double tau() const { return tau_.item<double>(); }  // reads the device: for tests and logs only

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
  // Target network: no gradients (requires_grad false), never in the optimiser.
  Backbone target_backbone{nullptr};
  torch::nn::Sequential target_projector{nullptr};

 private:
  double tau_base_;
  torch::Tensor tau_;  // [1] float64 buffer: EMA rate of the next update (saved in checkpoints)
};

}  // namespace gps
