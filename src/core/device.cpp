#include "gps/core/device.h"

#include "gps/core/check.h"

#include <ATen/Context.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <cstdlib>
#include <mutex>

namespace gps {

torch::Device resolve_device(const std::string& spec, const std::string& key) {
  if (spec == "cpu") return torch::kCPU;
  const int64_t visible = torch::cuda::is_available() ? int64_t(torch::cuda::device_count()) : 0;
  if (spec == "auto") return visible > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  GPS_CHECK(spec == "cuda" || spec.rfind("cuda:", 0) == 0, key, ": expected auto, cpu, cuda or cuda:N, got '", spec,
            "'");
  GPS_CHECK(visible > 0, key, "=", spec, ", but no CUDA device is visible to this process",
            "\n---> HINT: use ", key, "=cpu (or auto), or check the driver and CUDA_VISIBLE_DEVICES");
  int64_t index = 0;
  if (spec.size() > 5) {
    try {
      index = std::stoll(spec.substr(5));
    } catch (const std::exception&) {
      GPS_FAIL(key, ": '", spec, "' is not cuda:N with a device number N");
    }
  }
  GPS_CHECK(index >= 0 && index < visible, key, "=", spec, ", but only ", visible, " CUDA device",
            visible == 1 ? " is" : "s are", " visible (cuda:0", visible > 1 ? str_cat("..cuda:", visible - 1) : "", ")");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string follow_device(const std::string& spec, const torch::Device& train) {
  return spec == "auto" ? train.str() : spec;
}

namespace {

at::Generator default_generator(const torch::Device& device) {
  if (device.is_cpu()) return at::globalContext().defaultGenerator(torch::Device(torch::kCPU));
  return at::globalContext().defaultGenerator(torch::Device(device.type(), device.has_index() ? device.index() : 0));
}

}  // namespace

torch::Tensor generator_state(const torch::Device& device) {
  auto gen = default_generator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(const torch::Device& device, const torch::Tensor& state) {
  auto gen = default_generator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

torch::Tensor to_device(const torch::Tensor& x, const torch::Device& device) {
  return x.to(device, /*non_blocking=*/x.is_pinned());
}

torch::Tensor pin_for(const torch::Tensor& x, const torch::Device& device) {
  return device.is_cuda() ? x.pin_memory() : x;
}

void make_current(const torch::Device& device) {
  if (!device.is_cuda()) return;
  c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->setDevice(device);
}

void configure_determinism(const torch::Device& device, bool deterministic) {
  if (!device.is_cuda()) return;
  auto& ctx = at::globalContext();
  ctx.setBenchmarkCuDNN(!deterministic);
  ctx.setDeterministicCuDNN(deterministic);
  if (deterministic) {
    // cuBLAS reads this when it makes its handle: fixed-size workspaces
    // give reproducible reductions (NVIDIA's cuBLAS documentation).
    setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
    ctx.setDeterministicAlgorithms(true, /*warn_only=*/true);
  } else {
    ctx.setDeterministicAlgorithms(false, false);
  }
}

namespace {
constexpr size_t kAll = size_t(c10::CachingAllocator::StatType::AGGREGATE);
c10::DeviceIndex index_of(const torch::Device& d) { return d.has_index() ? d.index() : 0; }
}  // namespace

DeviceMemory device_memory_peak(const torch::Device& device) {
  DeviceMemory m;
  if (device.is_cpu()) return m;
  const auto stats = c10::getDeviceAllocator(device.type())->getDeviceStats(index_of(device));
  m.peak_allocated = stats.allocated_bytes[kAll].peak;
  m.peak_reserved = stats.reserved_bytes[kAll].peak;
  return m;
}

void reset_device_memory_peak(const torch::Device& device) {
  if (device.is_cpu()) return;
  // The CUDA caching allocator knows its devices only once CUDA is
  // initialised; before, resetPeakStats throws "Invalid device argument".
  at::globalContext().lazyInitDevice(device.type());
  c10::getDeviceAllocator(device.type())->resetPeakStats(index_of(device));
}

void configure_tf32(bool allow) {
  auto& ctx = at::globalContext();
  ctx.setAllowTF32CuDNN(allow);
  ctx.setAllowTF32CuBLAS(allow);
}

Tf32State tf32_state() {
  const auto& ctx = at::globalContext();
  return {ctx.allowTF32CuDNN(), ctx.allowTF32CuBLAS()};
}

}  // namespace gps
