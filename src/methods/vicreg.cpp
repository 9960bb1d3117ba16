#include "gps/methods/vicreg.h"

#include "gps/methods/heads.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/losses.h"

namespace gps {

VICRegImpl::VICRegImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)
    : sim_weight_(cfg.vicreg_sim_weight),
      var_weight_(cfg.vicreg_var_weight),
      cov_weight_(cfg.vicreg_cov_weight),
      mean_variance_(cfg.vicreg_variance == "mean") {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  projector = register_module(
      "projector", mlp3_bn(backbone_->feature_dim(), cfg.proj_hidden_dim, cfg.proj_output_dim, /*bn_last=*/false));
}

StepOutput VICRegImpl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  // Several processes: variance and covariance over the global batch.
  z1 = dist::gather_rows(z1), z2 = dist::gather_rows(z2);
  auto r = vicreg_loss(z1, z2, sim_weight_, var_weight_, cov_weight_, 1e-4, mean_variance_);
  StepOutput out;
  out.loss = r.loss;
  out.features1 = f1;
  out.logs["invariance"] = r.invariance.detach();
  out.logs["variance"] = r.variance.detach();
  out.logs["covariance"] = r.covariance.detach();
  out.logs["z_std"] = embedding_std(z1.detach());
  return out;
}

}  // namespace gps
