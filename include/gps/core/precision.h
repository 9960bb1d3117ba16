// Mixed precision and memory format (train.precision, train.channels_last).
//
// bf16 is autocast: inside an AutocastScope, convolutions and matmuls run in
// bfloat16, while autocast's own float32 list (softmax, log-softmax, norms)
// stays in float32. The losses leave autocast themselves (Float32Scope) and
// compute in float32, so only the network's forward runs in bf16; weights,
// gradients and optimiser state stay float32.
//
// fp64 is for numerical checks, not for speed: weights, views, losses,
// gradients and optimiser state in float64, so that two runs that differ
// only in summation order (two processes against one, another CPU's
// kernels) agree to about 1e-12 instead of float32's 1e-4 after a few steps.
#pragma once

#include <torch/torch.h>

#include <string>

namespace gps {

enum class Precision { fp32, bf16, fp64 };

// "fp32" | "bf16" | "fp64" | "auto"; throws gps::Error naming `key` for anything
// else. auto is bf16 where `device` runs it natively (a CPU with AMX or
// AVX512-BF16, a GPU of compute capability 8.0 or newer), else fp32.
Precision parse_precision(const std::string& name, const torch::Device& device = torch::kCPU,
                          const std::string& key = "train.precision");

// True when `device` computes bf16 natively (see parse_precision).
bool native_bf16(const torch::Device& device);

// "fp32" | "bf16" | "fp64".
const char* precision_name(Precision p);

// The dtype of weights and views: float64 for fp64, else float32.
torch::ScalarType weight_dtype(Precision p);

// Converts every floating-point parameter and buffer of `module` to `dtype`
// in place (integer buffers such as a queue pointer are left alone; the
// TensorImpl identity is kept, so optimiser state stays attached).
void to_dtype(torch::nn::Module& module, torch::ScalarType dtype);

// Autocast to bf16 on `device`'s type for the scope's lifetime (nothing for
// fp32); the previous autocast state is restored on exit.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
  at::DeviceType type_ = at::kCPU;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

// Turns autocast off for the scope's lifetime on every device type (CPU and
// CUDA), restoring it on exit: the losses' float32 region.
class Float32Scope {
 public:
  Float32Scope();
  ~Float32Scope();
  Float32Scope(const Float32Scope&) = delete;
  Float32Scope& operator=(const Float32Scope&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
};

// `t` as float32 (a no-op for float32 and float64 tensors).
torch::Tensor to_float32(const torch::Tensor& t);

// Converts every 4-D parameter and buffer of `module` to channels-last in
// place (TensorImpl identity kept, so optimiser state stays attached).
void to_channels_last(torch::nn::Module& module);

// `x` [B, C, H, W] in channels-last when `on`, else contiguous NCHW.
torch::Tensor with_memory_format(const torch::Tensor& x, bool channels_last);

// True when oneDNN runs its AVX2 kernels on this CPU: no AVX-512 (avx512f),
// or ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA capped below
// AVX512_CORE.
bool onednn_avx2_kernels();

// Why channels-last must not be used for `module` on `device`, or "" when it
// can: LibTorch 2.11's oneDNN (v3.x) AVX2 kernel for the weight gradient of a
// 1x1 convolution with stride > 1 and fewer than 8 input channels in
// channels-last writes past its buffer (heap corruption: a hang, SIGSEGV or
// "corrupted size vs. prev_size"). Checked on an Intel Xeon with
// ONEDNN_MAX_CPU_ISA=AVX2 and seen on AMD EPYC (AVX2 only); AVX-512
// kernels and float64 (no oneDNN) are not affected. `avx2_kernels` is
// onednn_avx2_kernels() unless a test passes its own.
std::string channels_last_hazard(torch::nn::Module& module, const torch::Device& device, Precision precision,
                                 bool avx2_kernels);

}  // namespace gps
