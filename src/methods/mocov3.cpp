#include "gps/methods/mocov3.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"

namespace gps {

MoCoV3Impl::MoCoV3Impl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)
    : temperature_(cfg.temperature) {
  GPS_CHECK(cfg.temperature > 0, "method.temperature must be > 0, got ", cfg.temperature);
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  projector = register_module("projector", mlp_nobias(2, f, cfg.proj_hidden_dim, cfg.proj_output_dim, true));
  predictor = register_module(
      "predictor", mlp_nobias(2, cfg.proj_output_dim, cfg.pred_hidden_dim, cfg.proj_output_dim, false));
  momentum_backbone = register_module("momentum_backbone", make_backbone(model, in_channels));
  momentum_projector =
      register_module("momentum_projector", mlp_nobias(2, f, cfg.proj_hidden_dim, cfg.proj_output_dim, true));
  momentum_ = MomentumTargets(*this, cfg.tau_base);
  momentum_.add(backbone_.ptr(), momentum_backbone.ptr());
  momentum_.add(projector.ptr(), momentum_projector.ptr());
}

StepOutput MoCoV3Impl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  auto q1 = predictor->forward(z1), q2 = predictor->forward(z2);
  torch::Tensor k1, k2;
  {
    torch::NoGradGuard no_grad;
    k1 = momentum_projector->forward(momentum_backbone(x1));
    k2 = momentum_projector->forward(momentum_backbone(x2));
  }
  // Several processes: queries against the keys of the global batch, the
  // mean over its rows (solo-learn gathers the keys; its DDP mean is this).
  q1 = dist::gather_rows(q1), q2 = dist::gather_rows(q2);
  k1 = dist::gather_rows(k1), k2 = dist::gather_rows(k2);
  auto l12 = mocov3_loss(q1, k2, temperature_), l21 = mocov3_loss(q2, k1, temperature_);
  StepOutput out;
  out.loss = l12 + l21;
  out.features1 = f1;
  out.logs["mocov3_v1"] = l12.detach();
  out.logs["mocov3_v2"] = l21.detach();
  out.logs["tau"] = momentum_.tau().detach().squeeze().clone();  // the rate of this step's update
  out.logs["z_std"] = embedding_std(dist::gather_rows(z1.detach()));
  return out;
}

void MoCoV3Impl::after_step(double progress) { momentum_.update(progress); }

void MoCoV3Impl::on_backbone_loaded() { momentum_.sync_backbone(); }

}  // namespace gps
