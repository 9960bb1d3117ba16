// The JSON sidecar of a model prior (TorchScript or ONNX; written by
// scripts/export_prior.py as <model>.json) and the preprocessing the prior
// resolves from it.
#pragma once

#include "gps/data/dataset.h"
#include "gps/prior/prior_config.h"

#include <string>
#include <vector>

namespace gps {

// What the exported model expects. Fields of the file:
//   "format": "gps-prior/1", "input_size": S > 0, "in_channels": 1 | 3,
//   "channel_order": "RGB" | "BGR", "mean", "std": [in_channels] numbers in
//   [0, 1] pixel units (std > 0), optional "output_dim" (> 0) and "source",
//   optional "resize": "bilinear" (the default: stretched to S x S with
//   torch's bilinear) or "pil-bicubic-center-crop" (the shorter side to S with
//   Pillow's bicubic, then the centre S x S crop: CLIP's preprocessing, and
//   torchvision's Resize + CenterCrop on PIL images; augment/pil_resize.h).
struct PriorSidecar {
  std::string path;
  std::string source;
  int64_t input_size = 0;
  int64_t in_channels = 3;
  std::string channel_order = "RGB";
  std::vector<float> mean, std;
  int64_t output_dim = 0;  // 0 = not stated
  std::string resize = "bilinear";  // bilinear | pil-bicubic-center-crop
};

// Reads and checks a sidecar; throws gps::Error naming the file and field.
PriorSidecar read_prior_sidecar(const std::string& path);

// The sidecar that applies to `cfg` (kind torchscript or onnx): cfg.sidecar when set
// (must exist), none for "none", else <cfg.path>.json when that file exists.
// Returns "" for no sidecar.
std::string find_prior_sidecar(const PriorConfig& cfg);

// The preprocessing of a model prior (TorchScript or ONNX). Each setting is the explicit
// config value when given (input_size > 0, in_channels > 0, normalize other
// than auto), else the sidecar's, else the old default (keep size, data's
// channels, dataset normalisation).
struct TorchScriptInput {
  int64_t input_size = 0;          // 0 = keep the data's size
  int64_t in_channels = 0;         // 0 = the data's channels
  std::string normalize;           // dataset | imagenet | none | sidecar
  std::vector<float> mean, std;    // normalize = sidecar: per model channel
  bool bgr = false;                // reverse RGB to BGR before normalising
  int64_t output_dim = 0;          // expected feature size (0 = unchecked)
  std::string resize = "bilinear"; // the sidecar's "resize" (bilinear without one)
  std::string sidecar;             // the file used ("" = none)
  std::string describe() const;    // every setting, for fingerprints
};
TorchScriptInput resolve_torchscript_input(const PriorConfig& cfg);

// Images [start, start + n) of `d` as the model's float32 input
// [n, C', S, S]: gray replicated to 3 channels when asked, RGB -> BGR when
// asked, resized to input_size as `resize` says, scaled to [0, 1], normalised.
// Throws gps::Error naming `model_path` when the channels cannot be made.
torch::Tensor model_input_batch(const TorchScriptInput& in, const Dataset& d, int64_t start, int64_t n,
                                const std::string& model_path);

}  // namespace gps
