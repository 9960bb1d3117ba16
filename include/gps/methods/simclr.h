// SimCLR: projector Linear(F, hidden) - ReLU - Linear(hidden, out), NT-Xent loss.
#pragma once

#include "gps/methods/method.h"

namespace gps {

class SimCLRImpl : public MethodImpl {
 public:
  SimCLRImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "simclr"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr};

 private:
  double temperature_;
};

}  // namespace gps
