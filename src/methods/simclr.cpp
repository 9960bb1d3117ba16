#include "gps/methods/simclr.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/losses.h"

namespace gps {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

SimCLRImpl::SimCLRImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)
    : temperature_(cfg.temperature) {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  projector = register_module("projector", nn::Sequential(nn::Linear(f, cfg.proj_hidden_dim), nn::ReLU(),
                                                          nn::Linear(cfg.proj_hidden_dim, cfg.proj_output_dim)));
}

StepOutput SimCLRImpl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  // Each view gets its own forward pass (own batch-norm statistics), as in solo-learn.
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  // Several processes: the loss is taken over the global batch (every rank's
  // views are negatives), as one process would.
  z1 = dist::gather_rows(z1), z2 = dist::gather_rows(z2);
  StepOutput out;
  out.loss = nt_xent(z1, z2, temperature_);
  out.features1 = f1;
  out.logs["nt_xent"] = out.loss.detach();
  out.logs["z_std"] = embedding_std(z1.detach());
  auto n1 = F::normalize(z1.detach(), F::NormalizeFuncOptions().dim(1));
  auto n2 = F::normalize(z2.detach(), F::NormalizeFuncOptions().dim(1));
  out.logs["pos_sim"] = (n1 * n2).sum(1).mean();
  return out;
}

}  // namespace gps
