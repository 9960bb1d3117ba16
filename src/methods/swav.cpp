#include "gps/methods/swav.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"

namespace gps {

namespace F = torch::nn::functional;

SwAVImpl::SwAVImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) : cfg_(cfg) {
  GPS_CHECK(cfg.queue_size >= 0, "method.queue_size must be >= 0 for swav, got ", cfg.queue_size);
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  projector = register_module("projector", mlp2_bn(backbone_->feature_dim(), cfg.proj_hidden_dim, cfg.proj_output_dim));
  prototypes = register_parameter("prototypes", init_prototypes(cfg.num_prototypes, cfg.proj_output_dim));
  if (cfg.queue_size > 0) queue = register_buffer("queue", torch::zeros({2, cfg.queue_size, cfg.proj_output_dim}));
}

std::vector<torch::Tensor> SwAVImpl::codes(const std::vector<torch::Tensor>& scores) {
  torch::NoGradGuard no_grad;
  const bool with_queue = queue.defined() && epoch_ >= cfg_.epoch_queue_starts;
  std::vector<torch::Tensor> out;
  for (size_t g = 0; g < 2; ++g) {
    auto s = scores[g].detach();
    const int64_t rows = s.size(0);
    if (with_queue) s = torch::cat({s, prototype_scores(queue[g], prototypes, true).to(s.scalar_type())});
    out.push_back(sinkhorn_knopp(s, cfg_.sk_epsilon, cfg_.sk_iters).slice(0, 0, rows));
  }
  return out;
}

void SwAVImpl::push(const torch::Tensor& z1, const torch::Tensor& z2) {
  torch::NoGradGuard no_grad;
  const int64_t b = z1.size(0), q = queue.size(1);
  GPS_CHECK(b <= q, "swav: method.queue_size (", q, ") is smaller than the global batch (", b, ")");
  queue.slice(1, b).copy_(queue.slice(1, 0, q - b).clone());
  queue.slice(1, 0, b).copy_(torch::stack({z1, z2}).to(queue.scalar_type()));
}

StepOutput SwAVImpl::training_step(const Views& views) {
  GPS_CHECK(views.size() >= 2, name(), ": needs two views (the global ones), the step has ", views.size());
  const bool frozen = epoch_ < cfg_.freeze_last_layer;
  const auto feats = multicrop_features(backbone_, views, views.size());
  std::vector<torch::Tensor> z, scores;
  for (const auto& f : feats) {
    z.push_back(dist::gather_rows(F::normalize(projector->forward(f), F::NormalizeFuncOptions().dim(1))));
    scores.push_back(prototype_scores(z.back(), prototypes, frozen));
  }
  const auto q = codes(scores);
  auto loss = swav_loss(scores, q, cfg_.temperature);
  if (queue.defined()) push(z[0].detach(), z[1].detach());
  StepOutput out;
  out.loss = loss;
  out.features1 = feats[0];
  out.logs["swav"] = loss.detach();
  {
    torch::NoGradGuard no_grad;
    out.logs["z_std"] = embedding_std(z[0].detach());
    // How many prototypes the codes of view 1 use: near P when the
    // equipartition holds, 1 at collapse.
    const auto top = std::get<1>(q[0].max(1));
    out.logs["codes_used"] = torch::zeros({q[0].size(1)}, q[0].options()).index_fill_(0, top, 1.0).sum();
  }
  return out;
}

}  // namespace gps
