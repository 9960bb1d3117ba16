// Barlow Twins: the cross-correlation of the two views' standardised
// projections is pushed towards the identity.
#pragma once

#include "gps/methods/method.h"

namespace gps {

class BarlowTwinsImpl : public MethodImpl {
 public:
  // Projector: mlp3_bn(F, proj_hidden_dim, proj_output_dim), no final BN.
  BarlowTwinsImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "barlow_twins"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr};

 private:
  double lambda_, scale_;
};

}  // namespace gps
