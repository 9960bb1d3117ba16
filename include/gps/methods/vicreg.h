// VICReg: invariance (MSE between views) + variance (hinge on each
// dimension's std) + covariance (off-diagonal decorrelation) of projections.
#pragma once

#include "gps/methods/method.h"

namespace gps {

class VICRegImpl : public MethodImpl {
 public:
  // Projector: mlp3_bn(F, proj_hidden_dim, proj_output_dim), no final BN.
  VICRegImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "vicreg"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr};

 private:
  double sim_weight_, var_weight_, cov_weight_;
  bool mean_variance_;
};

}  // namespace gps
