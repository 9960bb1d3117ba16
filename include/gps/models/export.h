// Taking a trained backbone out of gps: torchvision-named tensors (for .npz),
// a TorchScript module that Python's torch.jit.load runs, and the JSON sidecar
// describing its input. Importing torchvision-named weights back in. These
// are capabilities of the ResNet backbones (resnet.h, torchvision's names)
// and the ViTs (vit.h, timm's names): each function throws gps::Error naming
// model.arch for a backbone of another kind.
#pragma once

#include "gps/models/model_config.h"
#include "gps/models/backbone.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <string>

namespace gps {

// Every parameter and buffer of the backbone under its torchvision ResNet
// name ("conv1.weight", "layer1.0.bn1.running_mean", ...), detached CPU copies.
std::map<std::string, torch::Tensor> backbone_state(Backbone& net);

// A TorchScript module equivalent to net in eval mode (batch norm from its
// running statistics): forward(x) takes normalised float32 [B, C, H, W] and
// returns features [B, feature_dim]. Built by compiling TorchScript source
// generated from the architecture, with the trained tensors as attributes.
// Writes it to `path`.
void save_backbone_torchscript(Backbone& net, const ModelConfig& model, int64_t in_channels, const std::string& path);

// The sidecar: architecture, stem, channels, input size, mean/std, feature dim.
nlohmann::json backbone_sidecar(const ModelConfig& model, int64_t in_channels, int64_t input_size,
                                const std::vector<float>& mean, const std::vector<float>& std, int64_t feature_dim);

// Loads torchvision-named tensors (`state`, e.g. from an .npz) into `net`.
// Every backbone tensor must be present with the same shape, except that a
// 3-channel conv1 going into a 1-channel backbone is summed over its input
// channels (gray images as R = G = B). Names not in the backbone (fc.*) are
// ignored and listed in the returned note. Errors name `what` and the tensor.
std::string load_backbone_state(Backbone& net, const std::map<std::string, torch::Tensor>& state,
                                 const std::string& what);

}  // namespace gps
