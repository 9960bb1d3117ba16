#include "gps/methods/method.h"

#include "gps/core/check.h"
#include "gps/methods/barlow_twins.h"
#include "gps/methods/byol.h"
#include "gps/methods/nnclr.h"
#include "gps/methods/simclr.h"
#include "gps/methods/vicreg.h"

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
  torch::NoGradGuard no_grad;
  const bool was_training = head->is_training();
  head->eval();
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < feats.size(0); i += batch_size) {
    auto x = feats.slice(0, i, std::min(i + batch_size, feats.size(0))).to(device, torch::kFloat32);
    parts.push_back(head->forward(x).to(feats.device()));
  }
  head->train(was_training);
  return parts.empty() ? feats.new_empty({0, 0}) : torch::cat(parts);
}

Method make_method(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) {
  if (cfg.name == "simclr") return std::make_shared<SimCLRImpl>(cfg, model, in_channels);
  if (cfg.name == "byol") return std::make_shared<BYOLImpl>(cfg, model, in_channels);
  if (cfg.name == "nnclr") return std::make_shared<NNCLRImpl>(cfg, model, in_channels);
  if (cfg.name == "barlow_twins") return std::make_shared<BarlowTwinsImpl>(cfg, model, in_channels);
  if (cfg.name == "vicreg") return std::make_shared<VICRegImpl>(cfg, model, in_channels);
  GPS_FAIL("method.name: unknown method '", cfg.name, "' (expected: simclr|byol|nnclr|barlow_twins|vicreg)");
}

}  // namespace gps
