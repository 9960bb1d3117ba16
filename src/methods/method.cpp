#include "gps/methods/method.h"

#include "gps/core/check.h"
#include "gps/core/registry.h"
#include "gps/methods/barlow_twins.h"
#include "gps/methods/byol.h"
#include "gps/methods/dino.h"
#include "gps/methods/mocov3.h"
#include "gps/methods/nnclr.h"
#include "gps/methods/simclr.h"
#include "gps/methods/simsiam.h"
#include "gps/methods/swav.h"
#include "gps/methods/vicreg.h"

#include <map>


namespace gps {

namespace F = torch::nn::functional;

torch::Tensor embedding_std(const torch::Tensor& z) {
  auto n = F::normalize(z, F::NormalizeFuncOptions().dim(1));
  return n.std(0).mean();
}

torch::Tensor project_features(MethodImpl& method, const torch::Tensor& feats, int64_t batch_size) {
  GPS_CHECK(feats.dim() == 2, "project_features: [N, F] features expected, got ", feats.dim(), " dimensions");
  auto head = method.projector_head();
  const auto params = head->parameters();
  const torch::Device device = params.empty() ? feats.device() : params.front().device();
  const auto dtype = params.empty() ? torch::kFloat32 : params.front().scalar_type();  // float64 under fp64
  torch::NoGradGuard no_grad;
  const bool was_training = head->is_training();
  head->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < feats.size(0); i += batch_size) {
    auto x = feats.slice(0, i, std::min(i + batch_size, feats.size(0))).to(device, dtype);
    parts.push_back(head->forward(x).to(feats.device(), torch::kFloat32));
  }
  head->train(was_training);
  return parts.empty() ? feats.new_empty({0, 0}) : torch::cat(parts);
}

std::pair<torch::Tensor, torch::Tensor> two_views(const Views& views, const std::string& method) {
  GPS_CHECK(views.size() >= 2, method, ": needs two views, the step has ", views.size());
  return {views[0].images, views[1].images};
}

std::vector<torch::Tensor> multicrop_features(Backbone& backbone, const Views& views, size_t count) {
  GPS_CHECK(count <= views.size(), "multicrop_features: ", count, " views asked, the step has ", views.size());
  std::map<int64_t, std::vector<size_t>> by_size;
  for (size_t v = 0; v < count; ++v) by_size[views[v].size()].push_back(v);
  std::vector<torch::Tensor> out(count);
  for (auto it = by_size.rbegin(); it != by_size.rend(); ++it) {
    std::vector<torch::Tensor> batch;
    for (size_t v : it->second) batch.push_back(views[v].images);
    auto chunks = backbone(torch::cat(batch)).chunk(int64_t(it->second.size()));
    for (size_t j = 0; j < it->second.size(); ++j) out[it->second[j]] = chunks[j];
  }
  return out;
}

namespace {

template <typename Impl>
MethodFactory maker() {
  return [](const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) -> Method {
    return std::make_shared<Impl>(cfg, model, in_channels);
  };
}

Registry<MethodFactory>& method_registry() {
  static Registry<MethodFactory> r("register_method", {{"simclr", maker<SimCLRImpl>()},
                                                      {"byol", maker<BYOLImpl>()},
                                                      {"nnclr", maker<NNCLRImpl>()},
                                                      {"barlow_twins", maker<BarlowTwinsImpl>()},
                                                      {"vicreg", maker<VICRegImpl>()},
                                                      {"mocov3", maker<MoCoV3Impl>()},
                                                      {"simsiam", maker<SimSiamImpl>()},
                                                      {"dino", maker<DINOImpl>()},
                                                      {"swav", maker<SwAVImpl>()}});
  return r;
}

}  // namespace

void register_method(const std::string& name, MethodFactory make) { method_registry().add(name, std::move(make)); }

std::vector<std::string> method_names() { return method_registry().names(); }

Method make_method(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) {
  const MethodFactory make = method_registry().find(cfg.name);
  GPS_CHECK(bool(make), "method.name: unknown method '", cfg.name, "' (expected: ", method_registry().list("|"), ")");
  return make(cfg, model, in_channels);
}

}  // namespace gps
