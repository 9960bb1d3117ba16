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

Method make_method(const MethodConfig& cfg, const ModelConfig& model, int64_t in_channels) {
  if (cfg.name == "simclr") return std::make_shared<SimCLRImpl>(cfg, model, in_channels);
  if (cfg.name == "byol") return std::make_shared<BYOLImpl>(cfg, model, in_channels);
  if (cfg.name == "nnclr") return std::make_shared<NNCLRImpl>(cfg, model, in_channels);
  if (cfg.name == "barlow_twins") return std::make_shared<BarlowTwinsImpl>(cfg, model, in_channels);
  if (cfg.name == "vicreg") return std::make_shared<VICRegImpl>(cfg, model, in_channels);
  GPS_FAIL("method.name: unknown method '", cfg.name, "' (expected: simclr|byol|nnclr|barlow_twins|vicreg)");
}

}  // namespace gps
