// DINO (Caron et al. 2021) with multi-crop, as solo-learn builds it on a
// ResNet: a student (backbone + head) and a teacher, its EMA (BYOL's cosine
// schedule of tau from method.tau_base to 1). The head: Linear-GELU-Linear-
// GELU-Linear to a bottleneck (proj_hidden_dim, proj_output_dim; a BN after
// each hidden Linear with method.use_bn_in_head), L2
// normalisation, then num_prototypes weight-normalised prototypes with unit
// norm. The teacher sees the two global views, the student every view;
// views of one size go through the backbone together, as in DINO.
// Loss: dino_loss (losses.h) with the teacher centred and sharpened; the
// centre follows the teacher's batch mean (center_momentum). The teacher
// temperature rises linearly from warmup_teacher_temp over
// warmup_teacher_temp_epochs; the prototypes are frozen for the first
// freeze_last_layer epochs.
#pragma once

#include "gps/methods/method.h"
#include "gps/methods/momentum.h"

namespace gps {

// The DINO head: MLP to the bottleneck, L2 normalisation, prototypes.
class DinoHeadImpl : public torch::nn::Module {
 public:
  // `bn`: batch norm after each hidden Linear (DINO's use_bn_in_head).
  DinoHeadImpl(int64_t in, int64_t hidden, int64_t bottleneck, int64_t prototypes, bool bn = false);
  // Logits over the prototypes, [B, P]; `frozen`: no gradient reaches the prototypes.
  torch::Tensor forward(const torch::Tensor& x, bool frozen = false);

  torch::nn::Sequential mlp{nullptr};
  torch::Tensor prototypes;  // [P, bottleneck]: weight-normalised rows (weight_norm with g = 1)
};
TORCH_MODULE(DinoHead);

// The teacher temperature of `epoch`: linear from `warmup` at epoch 0 to
// `final` at epoch warmup_epochs - 1 (np.linspace), then `final`.
double dino_teacher_temp(double warmup, double final, int64_t warmup_epochs, int64_t epoch);

class DINOImpl : public MethodImpl {
 public:
  DINOImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);
  StepOutput training_step(const Views& views) override;
  void after_step(double progress) override;
  void on_epoch_start(int64_t epoch) override { epoch_ = epoch; }
  bool reads_local_views() const override { return true; }
  void on_backbone_loaded() override;
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return head->mlp; }
  std::string name() const override { return "dino"; }

  Backbone backbone_{nullptr};
  DinoHead head{nullptr};
  Backbone teacher_backbone{nullptr};
  DinoHead teacher_head{nullptr};
  torch::Tensor center;  // [1, P] buffer: the teacher's running mean (saved in checkpoints)

 private:
  MethodConfig cfg_;
  int64_t epoch_ = 0;
  MomentumTargets momentum_;  // student -> teacher pairs and the "tau" buffer
};

}  // namespace gps
