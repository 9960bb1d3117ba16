#include "gps/optim/lars.h"

#include "gps/core/check.h"

#include <torch/optim/serialize.h>


namespace gps {

void LARSOptions::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(momentum);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(weight_decay);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(eta);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(eps);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(clip_lr);
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(exclude_bias_n_norm);
}

void LARSOptions::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, momentum);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, weight_decay);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, eta);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(double, eps);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(bool, clip_lr);
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(bool, exclude_bias_n_norm);
}

void LARSParamState::serialize(torch::serialize::OutputArchive& archive) const {
  _TORCH_OPTIM_SERIALIZE_TORCH_ARG(momentum_buffer);
}

void LARSParamState::serialize(torch::serialize::InputArchive& archive) {
  _TORCH_OPTIM_DESERIALIZE_TORCH_ARG(torch::Tensor, momentum_buffer);
}

namespace {

void check_options(const LARSOptions& o) {
  GPS_CHECK(o.lr() >= 0, "lars: lr must be >= 0, got ", o.lr());
  GPS_CHECK(o.momentum() >= 0, "lars: momentum must be >= 0, got ", o.momentum());
  GPS_CHECK(o.weight_decay() >= 0, "lars: weight decay must be >= 0, got ", o.weight_decay());
  GPS_CHECK(o.eta() > 0, "optim.eta must be > 0, got ", o.eta());
}

}  // namespace

LARS::LARS(std::vector<torch::optim::OptimizerParamGroup> param_groups, LARSOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<LARSOptions>(defaults)) {
  for (auto& g : this->param_groups()) check_options(static_cast<const LARSOptions&>(g.options()));
}

LARS::LARS(std::vector<torch::Tensor> params, LARSOptions defaults)
    : LARS(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(std::move(params))},
           std::move(defaults)) {}

torch::Tensor LARS::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const LARSOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto d = p.grad();
      if (p.dim() >= 2 || !o.exclude_bias_n_norm()) {
        // The trust ratio stays on the parameter's device: reading the two
        // norms to the host would make it wait for the device twice per
        // parameter, every step. Where a norm is 0, d stays g (no ratio, no
        // decay), as in the reference.
        const auto p_norm = p.norm(), g_norm = d.norm();
        auto ratio = o.eta() * p_norm / (g_norm + o.weight_decay() * p_norm + o.eps());
        if (o.clip_lr()) ratio = o.lr() > 0 ? (ratio / o.lr()).clamp_max(1.0) : torch::ones_like(ratio);
        const auto scaled = p_norm.gt(0).logical_and(g_norm.gt(0));
        d = torch::where(scaled, (d + o.weight_decay() * p) * ratio, d);
      }
      if (o.momentum() != 0) {
        void* const key = p.unsafeGetTensorImpl();  // torch::optim keys state by the TensorImpl
        auto it = state().find(key);
        if (it == state().end()) {
          auto s = std::make_unique<LARSParamState>();
          s->momentum_buffer(d.clone());
          d = s->momentum_buffer();
          state()[key] = std::move(s);
        } else {
          auto& buf = static_cast<LARSParamState&>(*it->second).momentum_buffer();
          buf.mul_(o.momentum()).add_(d);
          d = buf;
        }
      }
      p.add_(d, -o.lr());
    }
  }
  return loss;
}

void LARS::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<LARSParamState, LARSOptions>(archive, *this);
}

void LARS::load(torch::serialize::InputArchive& archive) {
  torch::optim::serialize<LARSParamState, LARSOptions>(archive, *this);
}

}  // namespace gps
