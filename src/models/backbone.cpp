#include "gps/models/backbone.h"

#include "gps/core/check.h"
#include "gps/models/resnet.h"

#include <map>
#include <mutex>

namespace gps {

namespace {

struct Registry {
  std::mutex m;
  std::map<std::string, BackboneFactory> makers;
};

// The built-in backbones: the ResNets of resnet.h.
std::map<std::string, BackboneFactory> built_in() {
  std::map<std::string, BackboneFactory> out;
  for (const std::string arch : {"resnet18", "resnet50"})
    out[arch] = [arch](const ModelConfig& cfg, int64_t in_channels) {
      return Backbone(std::shared_ptr<BackboneImpl>(
          std::make_shared<ResNetImpl>(in_channels, cfg.width, cfg.small_stem, cfg.stem_padding, arch)));
    };
  return out;
}

Registry& registry() {
  static Registry r{{}, built_in()};
  return r;
}

}  // namespace

void register_backbone(const std::string& arch, BackboneFactory make) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.m);
  GPS_CHECK(!arch.empty(), "register_backbone: a name is needed");
  GPS_CHECK(make, "register_backbone: '", arch, "': a factory is needed");
  GPS_CHECK(r.makers.emplace(arch, std::move(make)).second, "register_backbone: '", arch, "' is already registered");
}

std::vector<std::string> backbone_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.m);
  std::vector<std::string> out;
  for (const auto& [name, make] : r.makers) out.push_back(name);
  return out;
}

Backbone make_backbone(const ModelConfig& cfg, int64_t in_channels) {
  BackboneFactory make;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.m);
    auto it = r.makers.find(cfg.arch);
    if (it != r.makers.end()) make = it->second;
  }
  if (!make) {
    std::string names;
    for (const auto& n : backbone_names()) names += (names.empty() ? "" : " | ") + n;
    GPS_FAIL("model.arch: unknown backbone '", cfg.arch, "' (expected ", names, ")");
  }
  return make(cfg, in_channels);
}

}  // namespace gps
