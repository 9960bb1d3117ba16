#include "gps/methods/dino.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/distributed/sync_batch_norm.h"
#include "gps/methods/heads.h"
#include "gps/methods/losses.h"


namespace gps {

namespace F = torch::nn::functional;

DinoHeadImpl::DinoHeadImpl(int64_t in, int64_t hidden, int64_t bottleneck, int64_t prototypes_n, bool bn) {
  GPS_CHECK(in > 0 && hidden > 0 && bottleneck > 0 && prototypes_n > 0, "dino head: widths must be positive, got ",
            in, "-", hidden, "-", bottleneck, "-", prototypes_n);
  namespace nn = torch::nn;
  nn::Sequential s;
  s->push_back(nn::Linear(in, hidden));
  if (bn) s->push_back(SyncBatchNorm(hidden));
  s->push_back(nn::GELU());
  s->push_back(nn::Linear(hidden, hidden));
  if (bn) s->push_back(SyncBatchNorm(hidden));
  s->push_back(nn::GELU());
  s->push_back(nn::Linear(hidden, bottleneck));
  mlp = register_module("mlp", s);
  torch::NoGradGuard no_grad;
  for (auto& m : mlp->children())  // DINO's init: truncated normal (std 0.02, cut at +-2: a plain normal), zero bias
    if (auto* l = m->as<nn::Linear>()) {
      l->weight.normal_(0.0, 0.02);
      l->bias.zero_();
    }
  // nn.Linear's default init, then weight_norm's g filled with 1 (frozen): unit rows.
  prototypes = register_parameter("prototypes", init_prototypes(prototypes_n, bottleneck));
}

torch::Tensor DinoHeadImpl::forward(const torch::Tensor& x, bool frozen) {
  return prototype_scores(F::normalize(mlp->forward(x), F::NormalizeFuncOptions().dim(1)), prototypes, frozen);
}

double dino_teacher_temp(double warmup, double final, int64_t warmup_epochs, int64_t epoch) {
  if (epoch >= warmup_epochs) return final;
  if (warmup_epochs == 1) return warmup;
  return warmup + (final - warmup) * double(epoch) / double(warmup_epochs - 1);
}

DINOImpl::DINOImpl(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) : cfg_(cfg) {
  backbone_ = register_module("backbone", make_backbone(model, in_channels));
  const int64_t f = backbone_->feature_dim();
  head = register_module("head",
                         DinoHead(f, cfg.proj_hidden_dim, cfg.proj_output_dim, cfg.num_prototypes, cfg.use_bn_in_head));
  teacher_backbone = register_module("teacher_backbone", make_backbone(model, in_channels));
  teacher_head = register_module("teacher_head", DinoHead(f, cfg.proj_hidden_dim, cfg.proj_output_dim,
                                                          cfg.num_prototypes, cfg.use_bn_in_head));
  center = register_buffer("center", torch::zeros({1, cfg.num_prototypes}));
  momentum_ = MomentumTargets(*this, cfg.tau_base);
  momentum_.add(backbone_.ptr(), teacher_backbone.ptr());
  momentum_.add(head.ptr(), teacher_head.ptr());
}

StepOutput DINOImpl::training_step(const Views& views) {
  GPS_CHECK(views.size() >= 2, name(), ": needs two views (the global ones), the step has ", views.size());
  const bool frozen = epoch_ < cfg_.freeze_last_layer;
  const auto feats = multicrop_features(backbone_, views, views.size());
  std::vector<torch::Tensor> student, teacher;
  for (const auto& f : feats) student.push_back(dist::gather_rows(head->forward(f, frozen)));
  {
    torch::NoGradGuard no_grad;
    const auto tf = multicrop_features(teacher_backbone, views, 2);
    for (const auto& f : tf) teacher.push_back(dist::gather_rows(teacher_head->forward(f)));
  }
  const double t_temp = dino_teacher_temp(cfg_.warmup_teacher_temp, cfg_.teacher_temp,
                                          cfg_.warmup_teacher_temp_epochs, epoch_);
  auto loss = dino_loss(student, teacher, center, cfg_.student_temp, t_temp);
  {  // the centre: EMA of the teacher's mean over both global views of the global batch
    torch::NoGradGuard no_grad;
    const auto mean = torch::cat(teacher).mean(0, true).to(center.scalar_type());
    center.mul_(cfg_.center_momentum).add_(mean * (1.0 - cfg_.center_momentum));
  }
  StepOutput out;
  out.loss = loss;
  out.features1 = feats[0];
  out.logs["dino"] = loss.detach();
  out.logs["teacher_temp"] = torch::tensor(t_temp);
  out.logs["tau"] = momentum_.tau().detach().squeeze().clone();
  {
    torch::NoGradGuard no_grad;
    out.logs["z_std"] = embedding_std(dist::gather_rows(head->mlp->forward(feats[0].detach())));
  }
  return out;
}

void DINOImpl::after_step(double progress) { momentum_.update(progress); }

void DINOImpl::on_backbone_loaded() { momentum_.sync_backbone(); }

}  // namespace gps
