#include "gps/models/features.h"

#include "gps/augment/augment.h"

namespace gps {

torch::Tensor extract_features(Backbone backbone, const Dataset& d, int64_t batch_size, const torch::Device& out) {
  torch::NoGradGuard no_grad;
  const bool was_training = backbone->is_training();
  backbone->eval();
  const torch::Tensor weight = backbone->parameters().front();
  const auto device = weight.device();
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < d.size(); s += batch_size) {
    const int64_t n = std::min(batch_size, d.size() - s);
    auto x = to_normalized_float(d.rows(s, n), d.mean, d.std).to(device, weight.scalar_type());  // float64 under fp64
    parts.push_back(backbone(x).to(out, torch::kFloat32));
  }
  backbone->train(was_training);
  return torch::cat(parts, 0);
}

}  // namespace gps
