// Priors read from files the user supplies: precomputed embeddings (.npy), a
// TorchScript or ONNX image model (e.g. an exported CLIP or ImageNet ResNet),
// or the backbone of an earlier gps run (bootstrap).
#pragma once

#include "gps/prior/prior.h"
#include "gps/prior/sidecar.h"

namespace gps {

// Precomputed embeddings: `train_path` (and optionally `test_path`) hold
// float32 [N, D] arrays whose row r is image r of the full split. For a
// subset, rows are picked through Dataset::source_index. Throws gps::Error
// naming the file when dtype, rank or N do not match.
class NpyPrior : public Prior {
 public:
  NpyPrior(std::string train_path, std::string test_path) : train_(std::move(train_path)), test_(std::move(test_path)) {}
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;

 private:
  std::string train_, test_;
};

// A TorchScript module mapping [B, C, S, S] float32 images to [B, D] (or
// [B, D, 1, 1]) embeddings. Images are scaled to [0, 1], gray replicated to
// `in_channels` when asked, resized bilinearly to input_size, normalised.
// Settings not given in `cfg` come from the model's JSON sidecar (see
// gps/prior/sidecar.h). Throws gps::Error for a missing/unloadable file or
// a bad sidecar (construction) and for a model that rejects the input or
// returns another feature size than its sidecar states (embed).
class TorchScriptPrior : public Prior {
 public:
  explicit TorchScriptPrior(const PriorConfig& cfg);
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;
  // The resolved preprocessing (config, then sidecar, then defaults).
  const TorchScriptInput& input() const;

 private:
  PriorConfig cfg_;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// An ONNX model run by OpenCV's dnn module, with the same preprocessing keys
// and sidecar as TorchScriptPrior (the input is one float32 NCHW tensor,
// the first output [B, D] or [B, D, 1, 1]). Throws gps::Error for a missing
// or unreadable file (construction) and for a model that rejects the input
// or contradicts its sidecar's output_dim (embed).
class OnnxPrior : public Prior {
 public:
  explicit OnnxPrior(const PriorConfig& cfg);
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;
  const TorchScriptInput& input() const;

 private:
  PriorConfig cfg_;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The backbone of an earlier run (its config.yaml + checkpoint.pt): frozen
// features, as `gps eval` computes them.
class RunPrior : public Prior {
 public:
  // `device`: where the backbone runs (prior.device, resolved).
  explicit RunPrior(std::string run_dir, torch::Device device = torch::kCPU);
  torch::Tensor embed(const Dataset& d) const override;
  std::string describe() const override;

 private:
  std::string run_dir_;
  torch::Device device_;
};

// "path@size:mtime", so cached tables notice a changed file. Throws when missing.
std::string file_identity(const std::string& path, const std::string& option);

}  // namespace gps
