#include "gps/methods/momentum.h"

#include "gps/core/check.h"

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

MomentumTargets::MomentumTargets(torch::nn::Module& owner, double tau_base) : tau_base_(tau_base) {
  GPS_CHECK(tau_base >= 0 && tau_base <= 1, "method.tau_base must be in [0, 1], got ", tau_base);
  tau_ = owner.register_buffer("tau", torch::full({1}, tau_base, torch::kFloat64));
}

void MomentumTargets::add(std::shared_ptr<torch::nn::Module> online, std::shared_ptr<torch::nn::Module> target) {
  GPS_CHECK(tau_.defined(), "MomentumTargets: add() before the rate was registered");
  init_target(*online, *target);
  pairs_.emplace_back(std::move(online), std::move(target));
}

void MomentumTargets::update(double progress) {
  for (auto& [online, target] : pairs_) ema_update(*online, *target, tau_);
  tau_.fill_(byol_tau(tau_base_, progress));
}

void MomentumTargets::sync_backbone() {
  GPS_CHECK(!pairs_.empty(), "MomentumTargets: no backbone pair");
  init_target(*pairs_[0].first, *pairs_[0].second);
  copy_buffers(*pairs_[0].first, *pairs_[0].second);
}

}  // namespace gps
