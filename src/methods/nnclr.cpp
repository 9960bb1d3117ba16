#include "gps/methods/nnclr.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"

namespace gps {

namespace F = torch::nn::functional;

NNCLRImpl::NNCLRImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)
    : temperature_(cfg.temperature) {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  projector = register_module("projector", mlp3_bn(f, cfg.proj_hidden_dim, cfg.proj_output_dim, /*bn_last=*/true));
  predictor = register_module("predictor", mlp2_bn(cfg.proj_output_dim, cfg.pred_hidden_dim, cfg.proj_output_dim));
  queue = register_module("queue", FeatureQueue(cfg.queue_size, cfg.proj_output_dim));
}

StepOutput NNCLRImpl::training_step(const Views& views) {
  const auto [x1, x2] = two_views(views, name());
  auto f1 = backbone_(x1), f2 = backbone_(x2);
  auto z1 = projector->forward(f1), z2 = projector->forward(f2);
  auto p1 = predictor->forward(z1), p2 = predictor->forward(z2);
  // Several processes: the loss over the global batch, and every rank pushes
  // the same rows, so the support queues stay identical.
  z1 = dist::gather_rows(z1), z2 = dist::gather_rows(z2);
  p1 = dist::gather_rows(p1), p2 = dist::gather_rows(p2);
  auto n1 = F::normalize(z1, F::NormalizeFuncOptions().dim(1));
  auto n2 = F::normalize(z2, F::NormalizeFuncOptions().dim(1));
  auto nn1 = queue->nearest(n1), nn2 = queue->nearest(n2);
  StepOutput out;
  out.loss = nnclr_loss(nn1, p2, temperature_) / 2 + nnclr_loss(nn2, p1, temperature_) / 2;
  out.features1 = f1;
  out.logs["nnclr"] = out.loss.detach();
  out.logs["nn_sim"] = (n1.detach() * nn1).sum(1).mean();  // cosine of z1 to its support neighbour
  out.logs["z_std"] = embedding_std(z1.detach());
  queue->push(n1.detach());
  return out;
}

}  // namespace gps
