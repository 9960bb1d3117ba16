#include "gps/methods/byol.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"

#include <algorithm>
#include <cmath>

namespace gps {

double byol_tau(double tau_base, double progress) {
  const double t = std::clamp(progress, 0.0, 1.0);
  return 1.0 - (1.0 - tau_base) * (std::cos(M_PI * t) + 1.0) / 2.0;
}

void ema_update(torch::nn::Module& online, torch::nn::Module& target, double tau) {
  ema_update(online, target, torch::tensor(tau, torch::kFloat64));
}

void ema_update(torch::nn::Module& online, torch::nn::Module& target, const torch::Tensor& tau_in) {
  auto src = online.parameters(), dst = target.parameters();
  GPS_CHECK(src.size() == dst.size(), "ema_update: online has ", src.size(), " parameters, target ", dst.size());
  GPS_CHECK(tau_in.numel() == 1, "ema_update: tau must hold one value, got ", tau_in.sizes());
  torch::NoGradGuard no_grad;
  // 0-dim: the parameters keep their dtype. BYOL's rate lives on the
  // parameters' device, so it is never read to the host (a wait per step).
  const auto tau = tau_in.reshape({}), rest = 1.0 - tau;
  for (size_t i = 0; i < src.size(); ++i) {
    GPS_CHECK(src[i].sizes() == dst[i].sizes(), "ema_update: parameter ", i, " differs in shape");
    dst[i].mul_(tau).add_(src[i] * rest);  // a 0-dim CPU rate works with CUDA tensors too
  }
}

void init_target(torch::nn::Module& online, torch::nn::Module& target) {
  ema_update(online, target, 0.0);
  for (auto& p : target.parameters()) p.set_requires_grad(false);
}

void copy_buffers(torch::nn::Module& online, torch::nn::Module& target) {
  torch::NoGradGuard no_grad;
  auto src = online.buffers(), dst = target.buffers();
  GPS_CHECK(src.size() == dst.size(), "copy_buffers: online has ", src.size(), " buffers, target ", dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
}

BYOLImpl::BYOLImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)
    : tau_base_(cfg.tau_base) {
  GPS_CHECK(cfg.tau_base >= 0 && cfg.tau_base <= 1, "method.tau_base must be in [0, 1], got ", cfg.tau_base);
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  projector = register_module("projector", mlp2_bn(f, cfg.proj_hidden_dim, cfg.proj_output_dim));
  predictor = register_module("predictor", mlp2_bn(cfg.proj_output_dim, cfg.pred_hidden_dim, cfg.proj_output_dim));
  target_backbone = register_module("target_backbone", make_backbone(model, in_channels));
  target_projector = register_module("target_projector", mlp2_bn(f, cfg.proj_hidden_dim, cfg.proj_output_dim));
  init_target(*backbone_, *target_backbone);
  init_target(*projector, *target_projector);
  tau_ = register_buffer("tau", torch::full({1}, cfg.tau_base, torch::kFloat64));
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
  out.logs["tau"] = tau_.detach().squeeze().clone();  // the rate of this step's update
  out.logs["z_std"] = embedding_std(dist::gather_rows(z1.detach()));
  return out;
}

void BYOLImpl::after_step(double progress) {
  ema_update(*backbone_, *target_backbone, tau_);
  ema_update(*projector, *target_projector, tau_);
  tau_.fill_(byol_tau(tau_base_, progress));
}

void BYOLImpl::on_backbone_loaded() {
  init_target(*backbone_, *target_backbone);
  copy_buffers(*backbone_, *target_backbone);
}

}  // namespace gps
