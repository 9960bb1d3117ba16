// SwAV (Caron et al. 2020) with multi-crop, as solo-learn builds it: a
// backbone, a projector Linear-BN-ReLU-Linear (proj_hidden_dim,
// proj_output_dim), L2 normalisation, and num_prototypes weight-normalised
// prototypes with unit norm (frozen for the first freeze_last_layer epochs).
// Codes: Sinkhorn-Knopp (sk_epsilon, sk_iters) on the scores of the two
// global views of the global batch, with the queue's rows appended from
// epoch_queue_starts on (queue_size rows per global view, 0 = none); the
// loss predicts each global view's codes from every other view
// (swav_loss, losses.h). There is no target network.
#pragma once

#include "gps/methods/method.h"

namespace gps {

class SwAVImpl : public MethodImpl {
 public:
  SwAVImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  void on_epoch_start(int64_t epoch) override { epoch_ = epoch; }
  bool reads_local_views() const override { return true; }
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "swav"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr};
  torch::Tensor prototypes;  // [P, proj_output_dim]: rows normalised when used
  torch::Tensor queue;       // [2, queue_size, proj_output_dim] buffer, newest rows first; undefined when queue_size = 0

 private:
  // The codes of the global views' scores, [B, P] each, the queue's rows
  // joining the Sinkhorn-Knopp batch from epoch_queue_starts on.
  std::vector<torch::Tensor> codes(const std::vector<torch::Tensor>& scores);
  // Pushes the global views' projections (newest first), shifting out the oldest.
  void push(const torch::Tensor& z1, const torch::Tensor& z2);

  MethodConfig cfg_;
  int64_t epoch_ = 0;
};

}  // namespace gps
