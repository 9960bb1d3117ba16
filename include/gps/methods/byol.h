// BYOL: online backbone + projector + predictor regress an EMA target
// (backbone + projector copy). Loss 2 - 2 cos(p, stopgrad z') summed over
// both directions; the target follows the online weights after each step.
#pragma once

#include "gps/methods/method.h"
#include "gps/methods/momentum.h"

namespace gps {

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
  double tau() const { return momentum_.tau().item<double>(); }  // reads the device: for tests and logs only

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
  // Target network: no gradients (requires_grad false), never in the optimiser.
  Backbone target_backbone{nullptr};
  torch::nn::Sequential target_projector{nullptr};

 private:
  MomentumTargets momentum_;  // the target pairs and the "tau" buffer
};

}  // namespace gps
