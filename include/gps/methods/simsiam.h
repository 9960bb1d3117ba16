// SimSiam (Chen & He 2021): one network, no target, no negatives. Projector
// Linear-BN-ReLU-Linear-BN-ReLU-Linear-BN (no affine on the last BN; solo-
// learn's recipe), bottleneck predictor Linear-BN-ReLU-Linear. Loss:
// (D(p1, z2) + D(p2, z1)) / 2 with D(p, z) = -cos(p, stopgrad z).
#pragma once

#include "gps/methods/method.h"

namespace gps {

class SimSiamImpl : public MethodImpl {
 public:
  SimSiamImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "simsiam"; }
  // The predictor keeps the base lr (SimSiam paper, section 4.3: "fixed lr").
  std::vector<std::string> fixed_lr_modules() const override { return {"predictor"}; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
};

}  // namespace gps
