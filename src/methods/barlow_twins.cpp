#include "gps/methods/barlow_twins.h"

#include "gps/methods/heads.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/losses.h"

namespace gps {

BarlowTwinsImpl::BarlowTwinsImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)
    : lambda_(cfg.barlow_lambda), scale_(cfg.barlow_scale) {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  projector = register_module(
      "projector", mlp3_bn(backbone_->feature_dim(), cfg.proj_hidden_dim, cfg.proj_output_dim, /*bn_last=*/false));
}

StepOutput BarlowTwinsImpl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  // Several processes: the cross-correlation over the global batch.
  z1 = dist::gather_rows(z1), z2 = dist::gather_rows(z2);
  auto r = barlow_twins_loss(z1, z2, lambda_, scale_);
  StepOutput out;
  out.loss = r.loss;
  out.features1 = f1;
  out.logs["on_diag"] = r.on_diag.detach();
  out.logs["off_diag"] = r.off_diag.detach();
  out.logs["z_std"] = embedding_std(z1.detach());
  return out;
}

}  // namespace gps
