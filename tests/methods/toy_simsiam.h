// A method that lives in tests/ only, to check the claim that a new
// two-view method is two new files (this header and the test that
// registers it) plus one registry line: a SimSiam-like loss, the negative
// cosine between one view's prediction and the other view's stopped
// projection, symmetrised.
#pragma once

#include "gps/methods/heads.h"
#include "gps/methods/method.h"

namespace gps::test {

class ToySimSiamImpl : public MethodImpl {
 public:
  ToySimSiamImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) {
    backbone_ = register_module("backbone", make_backbone(model, in_channels));
    projector = register_module("projector", mlp2_bn(backbone_->feature_dim(), cfg.proj_hidden_dim, cfg.proj_output_dim));
    predictor = register_module("predictor", mlp2_bn(cfg.proj_output_dim, cfg.pred_hidden_dim, cfg.proj_output_dim));
  }
  StepOutput training_step(const Views& views) override {
    namespace F = torch::nn::functional;
    const auto [x1, x2] = two_views(views, name());
    auto f1 = backbone_(x1), f2 = backbone_(x2);
    auto z1 = projector->forward(f1), z2 = projector->forward(f2);
    auto p1 = predictor->forward(z1), p2 = predictor->forward(z2);
    auto cos = [](const torch::Tensor& p, const torch::Tensor& z) {
      return F::cosine_similarity(p, z.detach(), F::CosineSimilarityFuncOptions().dim(1)).mean();
    };
    StepOutput out;
    out.loss = -0.5 * (cos(p1, z2) + cos(p2, z1));
    out.features1 = f1;
    out.logs["neg_cosine"] = out.loss.detach();
    return out;
  }
  Backbone backbone() override { return backbone_; }
  torch::nn::Sequential projector_head() override { return projector; }
  std::string name() const override { return "toy_simsiam"; }

  Backbone backbone_{nullptr};
  torch::nn::Sequential projector{nullptr}, predictor{nullptr};
};

}  // namespace gps::test
