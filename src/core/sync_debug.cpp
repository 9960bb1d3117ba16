// SyncDebugScope: CUDA's sync debug mode. Its own file: the c10/cuda header
// pulls in the CUDA runtime's headers, which no other file in core needs
// (CMakeLists.txt gives this file their include folder).
#include "gps/core/check.h"
#include "gps/core/device.h"

#include <c10/cuda/CUDAFunctions.h>

#include <cstdlib>

namespace gps {

std::string sync_debug_from_env() {
  const char* v = std::getenv("GPS_SYNC_DEBUG");
  const std::string mode = v == nullptr ? "" : v;
  GPS_CHECK(mode.empty() || mode == "error" || mode == "warn" || mode == "off",
            "environment variable GPS_SYNC_DEBUG='", mode, "': expected error, warn or off");
  return mode;
}

SyncDebugScope::SyncDebugScope(const torch::Device& device, const std::string& mode) {
  if (!device.is_cuda() || mode.empty() || mode == "off") return;
  GPS_CHECK(mode == "error" || mode == "warn", "sync debug mode '", mode, "': expected error, warn or off");
  auto& state = c10::cuda::warning_state();
  saved_ = int(state.get_sync_debug_mode());
  state.set_sync_debug_mode(mode == "error" ? c10::cuda::SyncDebugMode::L_ERROR : c10::cuda::SyncDebugMode::L_WARN);
}

SyncDebugScope::~SyncDebugScope() {
  if (saved_ >= 0) c10::cuda::warning_state().set_sync_debug_mode(static_cast<c10::cuda::SyncDebugMode>(saved_));
}

}  // namespace gps
