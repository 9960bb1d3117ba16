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

// A secondary device key (prior.device, neighbors.device) during training:
// "auto" follows the training device `train` (the GPU this rank trains on,
// not cuda:0); any other spec stays as written.
std::string follow_device(const std::string& spec, const torch::Device& train);

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

// train.tf32: whether fp32 convolutions (cuDNN) and matrix products
// (cuBLAS) on CUDA may use TF32 tensor cores (10-bit mantissa inputs, fp32
// accumulation). Off by default, so that fp32 means fp32; torch itself
// allows TF32 in cuDNN by default. Process-wide; no effect on the CPU.
void configure_tf32(bool allow);
struct Tf32State {
  bool cudnn = false, cublas = false;
};
Tf32State tf32_state();

// Peak GPU memory of this process on `device` since the last reset, from
// LibTorch's caching device allocator: bytes handed to tensors, and bytes reserved
// from the driver (what nvidia-smi shows, less the CUDA context). Zeros for
// the CPU.
struct DeviceMemory {
  int64_t peak_allocated = 0, peak_reserved = 0;
};
DeviceMemory device_memory_peak(const torch::Device& device);
// Starts the peak over. Initialises CUDA first when nothing has yet (the
// caching allocator refuses to reset before); call it where the span to
// measure starts (the trainer: before the first training step).
void reset_device_memory_peak(const torch::Device& device);

// CUDA's sync debug mode (torch.cuda.set_sync_debug_mode): while a
// SyncDebugScope(device, "error") lives, any operation that makes the host
// wait for the device (.item(), a blocking copy, masked_select, nonzero, a
// stream synchronise) throws; "warn" warns; "" or "off" leaves it alone.
// The mode in force before is restored at the end. No-op on the CPU. The
// trainer wraps its steps (not its settles) in one when the environment
// variable GPS_SYNC_DEBUG is set (the device tests set "error").
class SyncDebugScope {
 public:
  SyncDebugScope(const torch::Device& device, const std::string& mode);
  ~SyncDebugScope();
  SyncDebugScope(const SyncDebugScope&) = delete;
  SyncDebugScope& operator=(const SyncDebugScope&) = delete;

 private:
  int saved_ = -1;  // the mode before, or -1: nothing changed
};
// GPS_SYNC_DEBUG's value ("" when unset); error | warn | off, checked.
std::string sync_debug_from_env();

}  // namespace gps
