// NNCLR: the positive of a prediction is the nearest neighbour of the other
// view's projection in a FIFO support set of past view-1 projections.
#pragma once

#include "gps/methods/feature_queue.h"
#include "gps/methods/method.h"

namespace gps {

class NNCLRImpl : public MethodImpl {
 public:
  NNCLRImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  // z = projector(backbone(x)), p = predictor(z); with nn_v the queue's
  // nearest neighbour (cosine) of normalised z_v:
  //   loss = (nnclr_loss(nn_1, p_2) + nnclr_loss(nn_2, p_1)) / 2,
  // then the normalised z_1 are pushed into the queue (x1's batch size must
  // divide method.queue_size).
  StepOutput training_step(const Views& views) override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "nnclr"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
  FeatureQueue queue{nullptr};

 private:
  double temperature_;
};

}  // namespace gps
