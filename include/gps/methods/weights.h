// A trained method's weights from a run directory: which checkpoint file a
// finished run is read from, and its "method" entry loaded into a module.
// Below train/ so that priors (the "run" prior) and tools can read trained
// runs without the trainer; train/checkpoint.h writes these files.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace gps {

// The checkpoint run_dir/LATEST names ("" when the run has none). LATEST
// holds the file's path inside the run directory and, on a second line,
// "crc32 <8 hex digits> bytes <size>" of the file as it was written
// (train/checkpoint.h set_latest); a file that differs is refused. Throws
// gps::Error naming the file when LATEST is empty or damaged, or names a
// missing, truncated or damaged checkpoint; the hint names the run's others.
std::string latest_checkpoint(const std::string& run_dir);

// The checkpoint a finished run is evaluated or embedded from: checkpoint.pt
// when present, else the one LATEST names; LATEST, when there, is checked as
// above either way. Throws gps::Error when neither exists.
std::string final_checkpoint(const std::string& run_dir);

// The periodic checkpoints of a run, run_dir/checkpoints/step-<N>.pt,
// oldest first (empty when there are none).
std::vector<std::string> periodic_checkpoints(const std::string& run_dir);

// Loads the "method" entry of checkpoint `path` (backbone, heads, targets,
// queue, batch-norm statistics) into `method`, onto the device its
// parameters are on. Throws gps::Error naming `path` for a missing, corrupt
// or mismatched file.
void load_method_weights(const std::string& path, torch::nn::Module& method);

// The two steps of load_method_weights, for readers of the whole checkpoint
// (train/checkpoint.cpp): the archive of `path`, its tensors on `device`;
// and its "method" entry loaded into `method`. Both throw gps::Error naming
// `path`.
torch::serialize::InputArchive read_checkpoint_archive(const std::string& path, const torch::Device& device);
void load_method_entry(torch::serialize::InputArchive& root, const std::string& path, torch::nn::Module& method);

// The device of a module's first parameter (the CPU when it has none).
torch::Device module_device(const torch::nn::Module& module);

}  // namespace gps
