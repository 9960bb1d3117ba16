// The c10d backends a Group is built on: Gloo for CPU tensors, NCCL for CUDA
// tensors. Internal to src/distributed/.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/torch.h>

#include <chrono>

namespace gps::dist {

// A ProcessGroupNCCL of `world` ranks on `device` (cuda:N, this rank's GPU).
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                    std::chrono::milliseconds timeout, const torch::Device& device);

}  // namespace gps::dist
