#include "gps/train/train_state.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/env_info.h"
#include "gps/core/precision.h"
#include "gps/optim/lars.h"

#include <algorithm>

namespace gps {

namespace {

// Parameter groups as in solo-learn: weights with >= 2 dims get weight decay,
// 1-D parameters (biases, batch-norm) none; the online classifier its own lr
// and no decay. Frozen parameters (BYOL's EMA target) are left out.
// optim.name = lars: LARS on every group, the classifier's weight included
// as in solo-learn; 1-D parameters are left unscaled when
// optim.exclude_bias_n_norm (they never get decay: optim.weight_decay covers
// >= 2-D weights only). sgd: momentum SGD. adamw: AdamW (decoupled weight
// decay; torch's betas 0.9, 0.999 and eps 1e-8, as DINO's ViT recipe).
void make_optimizer(TrainState& s, const OptimConfig& o, double lr, double cls_lr) {
  std::vector<torch::Tensor> decay, no_decay, fixed_decay, fixed_no_decay;
  const auto fixed_modules = s.method->fixed_lr_modules();
  for (auto& item : s.method->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    const bool fixed = std::any_of(fixed_modules.begin(), fixed_modules.end(),
                                   [&](const std::string& m) { return name.rfind(m + ".", 0) == 0; });
    (p.dim() >= 2 ? (fixed ? fixed_decay : decay) : (fixed ? fixed_no_decay : no_decay)).push_back(p);
  }
  auto opts = [&](double group_lr, double wd) -> std::unique_ptr<torch::optim::OptimizerOptions> {
    if (o.name == "lars")
      return std::make_unique<LARSOptions>(LARSOptions(group_lr)
                                               .momentum(o.momentum)
                                               .weight_decay(wd)
                                               .eta(o.eta)
                                               .exclude_bias_n_norm(o.exclude_bias_n_norm));
    if (o.name == "adamw") return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(group_lr).weight_decay(wd));
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(group_lr).momentum(o.momentum).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, opts(lr, o.weight_decay));
  groups.emplace_back(no_decay, opts(lr, 0.0));
  s.group_names = {"weights", "norms_biases"};
  if (!fixed_decay.empty() || !fixed_no_decay.empty()) {  // the base lr at every step (SimSiam's predictor)
    groups.emplace_back(fixed_decay, opts(lr, o.weight_decay));
    groups.emplace_back(fixed_no_decay, opts(lr, 0.0));
    s.group_names.insert(s.group_names.end(), {"fixed_weights", "fixed_norms_biases"});
  }
  if (s.has_probe()) {
    groups.emplace_back(s.classifier->parameters(), opts(cls_lr, 0.0));
    s.group_names.push_back("classifier");
  }
  if (o.name == "lars") {
    s.optimizer = std::make_unique<LARS>(std::move(groups), LARSOptions(lr));
  } else if (o.name == "adamw") {
    s.optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(lr));
  } else {
    GPS_CHECK(o.name == "sgd", "optim.name: unknown optimiser '", o.name, "' (expected: sgd|lars|adamw)");
    s.optimizer = std::make_unique<torch::optim::SGD>(std::move(groups), torch::optim::SGDOptions(lr));
  }
}

}  // namespace

std::vector<torch::Tensor> TrainState::trainable() const {
  std::vector<torch::Tensor> out = method->parameters();
  if (has_probe())
    for (auto& p : classifier->parameters()) out.push_back(p);
  return out;
}

void TrainState::set_schedule_lr(double lr) {
  auto& groups = optimizer->param_groups();
  GPS_CHECK(groups.size() == group_names.size(), "optimiser has ", groups.size(), " parameter groups, names for ",
            group_names.size());
  for (size_t g = 0; g < groups.size(); ++g)
    if (group_names[g] != "classifier" && group_names[g].rfind("fixed_", 0) != 0) groups[g].options().set_lr(lr);
}

void TrainState::set_schedule_weight_decay(double wd) {
  auto& groups = optimizer->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    if (group_names[g] != "weights" && group_names[g] != "fixed_weights") continue;
    auto& o = groups[g].options();
    if (auto* a = dynamic_cast<torch::optim::AdamWOptions*>(&o)) a->weight_decay(wd);
    else if (auto* l = dynamic_cast<LARSOptions*>(&o)) l->weight_decay(wd);
    else if (auto* m = dynamic_cast<torch::optim::SGDOptions*>(&o)) m->weight_decay(wd);
    else GPS_FAIL("optim.weight_decay_end: the optimiser's options have no weight decay");
  }
}

TrainState make_train_state(const Config& cfg, int64_t in_channels, int64_t num_classes, const torch::Device& device) {
  TrainState s;
  s.device = device;
  s.channels_last = cfg.train.channels_last;
  s.method = make_method(cfg.method, cfg.model, in_channels);  // drawn on the CPU: one init for every device
  if (num_classes > 0) s.classifier = torch::nn::Linear(s.method->backbone()->feature_dim(), num_classes);
  s.method->to(device);
  if (s.has_probe()) s.classifier->to(device);
  const Precision precision = parse_precision(cfg.train.precision, device);
  s.dtype = weight_dtype(precision);
  if (precision == Precision::fp64) {
    to_dtype(*s.method, s.dtype);
    if (s.has_probe()) to_dtype(*s.classifier, s.dtype);
  }
  if (s.channels_last) {
    const std::string hazard = channels_last_hazard(*s.method, device, precision, onednn_avx2_kernels());
    if (!hazard.empty()) {
      s.channels_last = false;
      s.layout_note = str_cat("train.channels_last=true is not used on this CPU (",
                              environment_info()["cpu"]["model"].get<std::string>(),
                              "; oneDNN runs its AVX2 kernels: no AVX-512, or ONEDNN_MAX_CPU_ISA below it): ", hazard,
                              "; the run trains in the contiguous (NCHW) layout instead, with the same results. "
                              "model.width >= 8 (or a CPU with AVX-512) keeps channels-last");
    }
  }
  if (s.channels_last) to_channels_last(*s.method);
  const double scale = cfg.optim.scale_lr ? double(cfg.optim.batch_size) / 256.0 : 1.0;
  make_optimizer(s, cfg.optim, cfg.optim.lr * scale, cfg.optim.classifier_lr * scale);
  return s;
}

CheckpointState snapshot(const TrainState& s, const Config& cfg, int64_t steps_per_epoch,
                         const NeighborTable* refreshed) {
  CheckpointState c;
  c.loop = s.loop;
  c.epoch = s.loop.step / steps_per_epoch;
  c.config_yaml = cfg.to_yaml();
  c.rng_state = generator_state(torch::kCPU);
  if (s.device.is_cuda()) c.device_rng_state = generator_state(s.device);
  if (refreshed) c.table = *refreshed;
  return c;
}

CheckpointState restore(TrainState& s, const std::string& path, bool rollback) {
  CheckpointState c = load_checkpoint(path, *s.method, s.classifier_module(), s.optimizer.get());
  // Loading replaces the weights' storage with the file's (NCHW) layout.
  if (s.channels_last) to_channels_last(*s.method);
  // A rollback keeps the state's own lr scale and rollback count, and the
  // budget's clock and its latest decision running.
  LoopCounters kept = s.loop;
  s.loop = c.loop;
  if (rollback) s.loop.lr_scale = kept.lr_scale, s.loop.rollbacks = kept.rollbacks;
  if (rollback || c.loop.budget_steps == 0)
    s.loop.budget_steps = kept.budget_steps, s.loop.budget_spent_s = kept.budget_spent_s;
  if (c.rng_state.defined()) set_generator_state(torch::kCPU, c.rng_state);
  // A CUDA run's generator continues on CUDA; on another device it has no meaning.
  if (c.device_rng_state.defined() && s.device.is_cuda()) set_generator_state(s.device, c.device_rng_state);
  return c;
}

void save_state(const TrainState& s, const CheckpointState& snap, const std::string& run_dir, int64_t keep,
                const std::string& path) {
  if (path.empty())
    save_run_checkpoint(run_dir, keep, *s.method, s.classifier_module(), *s.optimizer, snap);
  else
    save_checkpoint(path, *s.method, s.classifier_module(), *s.optimizer, snap);
}

}  // namespace gps
