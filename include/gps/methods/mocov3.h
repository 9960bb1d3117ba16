// MoCo v3 (Chen, Xie & He 2021) on a ResNet: online backbone + projector +
// predictor; momentum backbone + projector, an EMA of the online ones with
// BYOL's cosine schedule of tau (method.tau_base to 1). Heads as solo-learn's
// `_build_mlp`: Linear layers without bias, BN + ReLU between, a final BN
// without affine parameters on the projector. Loss, symmetric and without a
// queue: mocov3_loss(q1, k2) + mocov3_loss(q2, k1) (losses.h), 2 tau-scaled.
#pragma once

#include "gps/methods/method.h"
#include "gps/methods/momentum.h"

namespace gps {

class MoCoV3Impl : public MethodImpl {
 public:
  MoCoV3Impl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  // EMA update with the current tau, then tau advances to byol_tau(progress).
  void after_step(double progress) override;
  void on_backbone_loaded() override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "mocov3"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
  // Momentum encoder: no gradients, never in the optimiser.
  Backbone momentum_backbone{nullptr};
  torch::nn::Sequential momentum_projector{nullptr};

 private:
  double temperature_;
  MomentumTargets momentum_;  // the momentum pairs and the "tau" buffer
};

}  // namespace gps
