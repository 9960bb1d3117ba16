#include "gps/models/backbone.h"

#include "gps/core/check.h"
#include "gps/core/registry.h"
#include "gps/models/resnet.h"
#include "gps/models/vit.h"

namespace gps {

namespace {

// The built-in backbones: the ResNets of resnet.h and the ViTs of vit.h.
std::map<std::string, BackboneFactory> built_in() {
  std::map<std::string, BackboneFactory> out;
  for (const std::string arch : {"resnet18", "resnet50"})
    out[arch] = [arch](const ModelConfig& cfg, int64_t in_channels) {
      return Backbone(std::shared_ptr<BackboneImpl>(
          std::make_shared<ResNetImpl>(in_channels, cfg.width, cfg.small_stem, cfg.stem_padding, arch)));
    };
  for (const std::string arch : {"vit_tiny", "vit_small"})
    out[arch] = [arch](const ModelConfig& cfg, int64_t in_channels) {
      return Backbone(std::shared_ptr<BackboneImpl>(
          std::make_shared<VisionTransformerImpl>(in_channels, vit_shape(arch), cfg.patch_size, cfg.image_size, arch)));
    };
  return out;
}

Registry<BackboneFactory>& registry() {
  static Registry<BackboneFactory> r("register_backbone", built_in());
  return r;
}

}  // namespace

void register_backbone(const std::string& arch, BackboneFactory make) { registry().add(arch, std::move(make)); }

std::vector<std::string> backbone_names() { return registry().names(); }

Backbone make_backbone(const ModelConfig& cfg, int64_t in_channels) {
  const BackboneFactory make = registry().find(cfg.arch);
  GPS_CHECK(bool(make), "model.arch: unknown backbone '", cfg.arch, "' (expected ", registry().list(), ")");
  return make(cfg, in_channels);
}

}  // namespace gps
