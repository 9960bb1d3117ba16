// Where tensors live: resolving train.device, and the random generator of a
// device (saved in checkpoints so that a resumed run draws what it would have).
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

// "auto" -> cuda:0 when a CUDA device is visible, else cpu; "cpu"; "cuda" ->
// cuda:0; "cuda:N". Throws gps::Error naming `key` when CUDA is asked for and
// none is visible, or when N is not a visible device.
torch::Device resolve_device(const std::string& spec, const std::string& key = "train.device");

// The state of the default generator of `device` (CPU: torch's global CPU
// generator; CUDA: that device's default generator). uint8 CPU tensor.
torch::Tensor generator_state(const torch::Device& device);
void set_generator_state(const torch::Device& device, const torch::Tensor& state);

// Copies host tensor `x` to `device`. On CUDA the copy is asynchronous when
// `x` is in pinned memory (see pin_for); on the CPU it is `x` itself.
torch::Tensor to_device(const torch::Tensor& x, const torch::Device& device);

// `x` in page-locked memory when `device` is CUDA (so that to_device does not
// wait), else `x` unchanged.
torch::Tensor pin_for(const torch::Tensor& x, const torch::Device& device);

// Makes `device` the current CUDA device of the calling thread (what
// torch::kCUDA without an index means, and where NCCL and cuBLAS set up).
// No-op for the CPU.
void make_current(const torch::Device& device);

// train.deterministic on `device`. CUDA: true = deterministic cuDNN and
// cuBLAS algorithms (CUBLAS_WORKSPACE_CONFIG=:4096:8 unless set; operations
// without a deterministic kernel warn once), no cuDNN autotuning; false =
// cuDNN autotuning (benchmark mode) for speed. Must run before the first
// cuBLAS call. The CPU is deterministic for a fixed thread count either way.
void configure_determinism(const torch::Device& device, bool deterministic);

// Peak GPU memory of this process on `device` since the last reset, from
// LibTorch's caching device allocator: bytes handed to tensors, and bytes reserved
// from the driver (what nvidia-smi shows, less the CUDA context). Zeros for
// the CPU.
struct DeviceMemory {
  int64_t peak_allocated = 0, peak_reserved = 0;
};
DeviceMemory device_memory_peak(const torch::Device& device);
void reset_device_memory_peak(const torch::Device& device);

}  // namespace gps
