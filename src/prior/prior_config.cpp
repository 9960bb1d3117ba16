#include "gps/prior/prior_config.h"

#include "gps/core/check.h"

namespace gps {

void validate(const PriorConfig& prior) {
  const std::string& pk = prior.kind;
  const bool learned = pk == "autoencoder" || pk == "vae";
  const bool model_file = pk == "torchscript" || pk == "onnx";
  if (pk != "pixels" && !learned)
    GPS_CHECK(!prior.path.empty(), "prior.kind=", pk, " needs prior.path (",
              pk == "npy" ? "a .npy file of train embeddings" : pk == "run" ? "a run directory"
              : pk == "onnx" ? "an .onnx file" : "a TorchScript file", ")");
  if (learned) {
    GPS_CHECK(prior.path.empty(), "prior.path does not apply to prior.kind=", pk,
              " (the tool trains it on the train images; got prior.path=", prior.path, ")");
    GPS_CHECK(prior.input_size == 0 || (prior.input_size >= 16 && prior.input_size % 8 == 0), "prior.input_size=",
              prior.input_size, ": the ", pk, " needs a multiple of 8 that is at least 16 (0 = 32)");
    GPS_CHECK(prior.in_channels == 0 && prior.normalize == "auto", "prior.in_channels / prior.normalize do not apply "
              "to prior.kind=", pk, " (it reads the data's channels, normalised with the dataset statistics)");
  }
  GPS_CHECK(prior.beta == 1.0 || pk == "vae", "prior.beta only applies to prior.kind=vae, not '", pk, "'");
  GPS_CHECK(prior.test_path.empty() || pk == "npy", "prior.test_path only applies to prior.kind=npy");
  GPS_CHECK(prior.sidecar.empty() || model_file, "prior.sidecar only applies to prior.kind=torchscript or onnx");
}

}  // namespace gps
