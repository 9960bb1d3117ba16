// ProcessGroupNCCL for groups whose tensors live on CUDA devices. Its own
// file: the header pulls in the CUDA runtime and NCCL headers, which no other
// file needs (CMakeLists.txt gives this file their include folders).
#include "gps/distributed/backend.h"

#include "gps/core/check.h"

#ifndef USE_C10D_NCCL
#error "this LibTorch was built without NCCL (USE_C10D_NCCL); the pip torch 2.11.0 wheel has it"
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace gps::dist {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                    std::chrono::milliseconds timeout, const torch::Device& device) {
  GPS_CHECK(device.is_cuda() && device.has_index(), "NCCL needs a CUDA device with an index, got ", device.str());
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, opts);
  // Bound to this rank's GPU: communicators are made for it at once, and
  // collectives never guess the device from the "current" one.
  pg->setBoundDeviceId(device);
  pg->eagerConnectSingleDevice(device);
  return pg;
}

}  // namespace gps::dist
