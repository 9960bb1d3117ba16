// The backbone interface: images [B, C, H, W] -> features [B, F]. Methods,
// feature extraction, evaluation and priors see only this; the networks
// (resnet.h today) live under models/ and are made by name (model.arch)
// through the registry below.
#pragma once

#include "gps/models/model_config.h"

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace gps {

class BackboneImpl : public torch::nn::Module {
 public:
  // x: [B, in_channels, H, W] float32 (or bf16 under autocast) ->
  // features [B, feature_dim()].
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual int64_t feature_dim() const = 0;
  // The model.arch it was made for ("resnet18").
  virtual std::string name() const = 0;
};
// A shared handle, as torch's module holders: Backbone(nullptr) is empty;
// backbone(x) calls forward. Made from a network with
// Backbone(std::shared_ptr<BackboneImpl>(...)).
TORCH_MODULE(Backbone);

// model.arch -> a function that makes that backbone for images with
// `in_channels` channels, its weights drawn from torch's global generator.
using BackboneFactory = std::function<Backbone(const ModelConfig& cfg, int64_t in_channels)>;

// Adds `arch` to the registry (resnet18 and resnet50 are built in). Throws
// gps::Error when the name is taken.
void register_backbone(const std::string& arch, BackboneFactory make);
// The registered names, sorted.
std::vector<std::string> backbone_names();
// The backbone named by cfg.arch. Throws gps::Error naming model.arch and
// the registered names when it is unknown.
Backbone make_backbone(const ModelConfig& cfg, int64_t in_channels);

}  // namespace gps
