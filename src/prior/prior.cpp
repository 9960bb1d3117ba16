#include "gps/prior/prior.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/prior/autoencoder.h"
#include "gps/prior/embedding_cache.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/pca.h"
#include "gps/prior/pixel_prior.h"

namespace gps {

std::unique_ptr<Prior> make_prior(const PriorConfig& cfg, const std::string& cache_dir) {
  std::unique_ptr<Prior> p;
  if (cfg.kind == "pixels")
    p = std::make_unique<PixelPrior>();
  else if (cfg.kind == "npy")
    p = std::make_unique<NpyPrior>(cfg.path, cfg.test_path);
  else if (cfg.kind == "torchscript")
    p = std::make_unique<TorchScriptPrior>(cfg);
  else if (cfg.kind == "onnx")
    p = std::make_unique<OnnxPrior>(cfg);
  else if (cfg.kind == "run")
    p = std::make_unique<RunPrior>(cfg.path, resolve_device(cfg.device, "prior.device"));
  else if (cfg.kind == "autoencoder" || cfg.kind == "vae")
    p = std::make_unique<AutoencoderPrior>(autoencoder_options(cfg), cfg.cache ? cache_dir : std::string());
  else
    GPS_FAIL("prior.kind: unknown prior '", cfg.kind,
             "' (expected: pixels | npy | torchscript | onnx | run | autoencoder | vae)");
  const bool expensive = cfg.kind == "torchscript" || cfg.kind == "onnx" || cfg.kind == "run";
  if (expensive && cfg.cache && !cache_dir.empty()) p = std::make_unique<CachedPrior>(std::move(p), cache_dir);
  if (cfg.pca_dim > 0) p = std::make_unique<PcaPrior>(std::move(p), cfg.pca_dim);
  return p;
}

}  // namespace gps
