#include "gps/prior/prior.h"

#include "gps/core/check.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/pca.h"
#include "gps/prior/pixel_prior.h"

namespace gps {

std::unique_ptr<Prior> make_prior(const PriorConfig& cfg) {
  std::unique_ptr<Prior> p;
  if (cfg.kind == "pixels")
    p = std::make_unique<PixelPrior>();
  else if (cfg.kind == "npy")
    p = std::make_unique<NpyPrior>(cfg.path, cfg.test_path);
  else if (cfg.kind == "torchscript")
    p = std::make_unique<TorchScriptPrior>(cfg);
  else if (cfg.kind == "run")
    p = std::make_unique<RunPrior>(cfg.path);
  else
    GPS_FAIL("prior.kind: unknown prior '", cfg.kind, "' (expected: pixels | npy | torchscript | run)");
  if (cfg.pca_dim > 0) p = std::make_unique<PcaPrior>(std::move(p), cfg.pca_dim);
  return p;
}

}  // namespace gps
