// A run directory, read: the one place that knows its layout. config.yaml
// (the model and method sections, or its path for the whole config), the
// checkpoint LATEST names (checked against its CRC-32, weights.h), the
// checkpoint a finished run is read from, the method with its trained
// weights, and where summary.json is (its content: train/run_summary.h).
// Below train/ so that the "run" prior and the tools read trained runs
// without the trainer; train/checkpoint.h writes these files.
#pragma once

#include "gps/methods/method.h"
#include "gps/methods/method_config.h"
#include "gps/models/model_config.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

class RunReader {
 public:
  // True when `dir` is a run directory (holds config.yaml).
  static bool is_run(const std::string& dir);

  // `option` names what gave `dir` ("--run", "prior.path"), for errors.
  // Throws gps::Error naming both when `dir` has no config.yaml.
  RunReader(std::string dir, std::string option);

  const std::string& dir() const { return dir_; }
  std::string file(const std::string& name) const;
  std::string config_path() const { return file("config.yaml"); }
  std::string summary_path() const { return file("summary.json"); }

  // Section `name` (model, method) of config.yaml as JSON: plain scalars
  // become numbers or booleans where they parse as such, quoted ones (gps
  // writes every string quoted) stay strings. Missing: an empty object.
  nlohmann::json config_section(const std::string& name) const;
  // The run's method and model settings; throws naming config.yaml.
  MethodConfig method_config() const;
  ModelConfig model_config() const;

  // The checkpoint LATEST names ("" when none: a run that has not reached
  // its first checkpoint), checked against LATEST's CRC-32 and size.
  std::string latest() const;
  // The checkpoint a finished run is evaluated or embedded from:
  // checkpoint.pt, else the one LATEST names. Throws when neither exists.
  std::string checkpoint() const;
  // Every checkpoint file of the run: the periodic ones (oldest first),
  // then checkpoint.pt when present.
  std::vector<std::string> checkpoints() const;

  // The method of `method` / `model` settings for `in_channels`, with the
  // weights of checkpoint(), on `device`. Throws naming the checkpoint when
  // it does not match.
  Method load_method(const MethodConfig& method, const ModelConfig& model, int64_t in_channels,
                     const torch::Device& device = torch::kCPU) const;
  // ... with the run's own settings (config.yaml).
  Method load_method(int64_t in_channels, const torch::Device& device = torch::kCPU) const {
    return load_method(method_config(), model_config(), in_channels, device);
  }

 private:
  std::string dir_, option_;
};

}  // namespace gps
