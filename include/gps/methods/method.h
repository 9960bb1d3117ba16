// An SSL method: backbone + heads + loss on a pair of views. The trainer
// only sees this interface; GPS is decided by which images form the pair,
// never by the method.
#pragma once

#include "gps/augment/views.h"
#include "gps/methods/method_config.h"
#include "gps/models/model_config.h"
#include "gps/models/backbone.h"

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gps {

struct StepOutput {
  torch::Tensor loss;                         // scalar to minimise
  torch::Tensor features1;                    // [B, F] backbone features of view 1 (for the online probe)
  std::map<std::string, torch::Tensor> logs;  // named scalars: loss components, z_std, ...
};

class MethodImpl : public torch::nn::Module {
 public:
  // The step's views (views.h): today views[0] is made of the anchors and
  // views[1] of their positives, so row b of both comes from pair b. A
  // two-view method reads the first two (two_views).
  virtual StepOutput training_step(const Views& views) = 0;
  // Called after every optimiser step (EMA targets, queues); progress in [0, 1].
  virtual void after_step(double progress) {}
  // Called before the first step of every epoch, and before the loop's first
  // step (a resumed run starts mid-epoch): DINO's teacher temperature and
  // frozen prototypes follow the epoch.
  virtual void on_epoch_start(int64_t epoch) {}
  // True for a method that reads the local views of multi-crop
  // (augment.local_crops); the trainer refuses local views otherwise.
  virtual bool reads_local_views() const { return false; }
  // Called after backbone weights were set from outside (model.init_from):
  // methods with a target network copy them into it.
  virtual void on_backbone_loaded() {}
  virtual Backbone backbone() = 0;
  // The projector applied to backbone features (table refresh from projector space).
  virtual torch::nn::Sequential projector_head() = 0;
  virtual std::string name() const = 0;
  // Child modules trained at the base lr at every step, outside the
  // warm-up and cosine schedule (SimSiam's predictor: its paper's "fixed lr
  // for the predictor", solo-learn's static_lr). Default: none.
  virtual std::vector<std::string> fixed_lr_modules() const { return {}; }
};

using Method = std::shared_ptr<MethodImpl>;

// The images of the first two views, for methods that compare two views;
// throws gps::Error naming `method` when the step has fewer.
std::pair<torch::Tensor, torch::Tensor> two_views(const Views& views, const std::string& method);

// Backbone features of the first `count` views, [B, F] each, in view order.
// Views of one size go through the backbone together, the larger sizes
// first (DINO's and SwAV's multi-crop forward: global views, then local).
std::vector<torch::Tensor> multicrop_features(Backbone& backbone, const Views& views, size_t count);

// method.name -> a function that makes the method (backbone, heads, loss).
using MethodFactory = std::function<Method(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels)>;
// Adds a method to the registry (simclr, byol, nnclr, barlow_twins and
// vicreg are built in); method.name then accepts it. Throws gps::Error when
// the name is taken.
void register_method(const std::string& name, MethodFactory make);
// The registered names, sorted.
std::vector<std::string> method_names();

// The method named by cfg.name, for images with `in_channels` channels.
Method make_method(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels);

// The projector's output on backbone features `feats` [N, F] (any device):
// eval mode (batch-norm running statistics), no gradients, `batch_size` rows
// at a time on the projector's device; [N, D] on feats' device. For the
// table refresh from projector space and the probes with eval.features=projector.
torch::Tensor project_features(MethodImpl& method, const torch::Tensor& feats, int64_t batch_size = 4096);

// Standard deviation of L2-normalised embeddings averaged over dimensions:
// about 1/sqrt(D) when healthy, 0 at collapse. z: [B, D].
torch::Tensor embedding_std(const torch::Tensor& z);

}  // namespace gps
