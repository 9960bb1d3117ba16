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

}  // namespace gps
