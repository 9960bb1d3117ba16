#include "gps/methods/byol.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"


namespace gps {

BYOLImpl::BYOLImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  projector = register_module("projector", mlp2_bn(f, cfg.proj_hidden_dim, cfg.proj_output_dim));
  predictor = register_module("predictor", mlp2_bn(cfg.proj_output_dim, cfg.pred_hidden_dim, cfg.proj_output_dim));
  target_backbone = register_module("target_backbone", make_backbone(model, in_channels));
  target_projector = register_module("target_projector", mlp2_bn(f, cfg.proj_hidden_dim, cfg.proj_output_dim));
  momentum_ = MomentumTargets(*this, cfg.tau_base);
  momentum_.add(backbone_.ptr(), target_backbone.ptr());
  momentum_.add(projector.ptr(), target_projector.ptr());
}

StepOutput BYOLImpl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  auto p1 = predictor->forward(z1), p2 = predictor->forward(z2);
  torch::Tensor t1, t2;
  {
    torch::NoGradGuard no_grad;
    t1 = target_projector->forward(target_backbone(x1));
    t2 = target_projector->forward(target_backbone(x2));
  }
  // Several processes: the loss (a mean over rows) over the global batch, so
  // that every rank logs and checks the same value.
  p1 = dist::gather_rows(p1), p2 = dist::gather_rows(p2);
  t1 = dist::gather_rows(t1), t2 = dist::gather_rows(t2);
  auto l12 = byol_loss(p1, t2), l21 = byol_loss(p2, t1);
  StepOutput out;
  out.loss = l12 + l21;
  out.features1 = f1;
  out.logs["byol_v1"] = l12.detach();
  out.logs["byol_v2"] = l21.detach();
  out.logs["tau"] = momentum_.tau().detach().squeeze().clone();  // the rate of this step's update
  out.logs["z_std"] = embedding_std(dist::gather_rows(z1.detach()));
  return out;
}

void BYOLImpl::after_step(double progress) { momentum_.update(progress); }

void BYOLImpl::on_backbone_loaded() { momentum_.sync_backbone(); }

}  // namespace gps
