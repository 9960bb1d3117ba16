#include "gps/methods/simsiam.h"

#include "gps/distributed/process_group.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"

namespace gps {

SimSiamImpl::SimSiamImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  projector = register_module("projector", mlp_nobias(3, f, cfg.proj_hidden_dim, cfg.proj_output_dim, true));
  predictor = register_module(
      "predictor", mlp_nobias(2, cfg.proj_output_dim, cfg.pred_hidden_dim, cfg.proj_output_dim, false, true));
}

StepOutput SimSiamImpl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  auto p1 = predictor->forward(z1), p2 = predictor->forward(z2);
  // Several processes: the mean over the global batch, as BYOL's.
  p1 = dist::gather_rows(p1), p2 = dist::gather_rows(p2);
  z1 = dist::gather_rows(z1), z2 = dist::gather_rows(z2);
  auto l12 = simsiam_loss(p1, z2), l21 = simsiam_loss(p2, z1);
  StepOutput out;
  out.loss = 0.5 * (l12 + l21);
  out.features1 = f1;
  out.logs["neg_cos_v1"] = l12.detach();
  out.logs["neg_cos_v2"] = l21.detach();
  out.logs["z_std"] = embedding_std(z1.detach());
  return out;
}

}  // namespace gps
