#include "gps/core/precision.h"

#include "gps/core/check.h"
#include "gps/core/env_info.h"

#include <ATen/autocast_mode.h>

namespace gps {

bool native_bf16(const torch::Device& device) {
  const auto env = environment_info();
  if (device.is_cpu()) return env["cpu"]["flags"]["amx_bf16"].get<bool>() || env["cpu"]["flags"]["avx512_bf16"].get<bool>();
  if (!device.is_cuda()) return false;
  const int64_t index = device.has_index() ? device.index() : 0;
  for (const auto& d : env["cuda"]["devices"])
    if (d["index"].get<int64_t>() == index) return std::stod(d["compute_capability"].get<std::string>()) >= 8.0;
  return false;
}

Precision parse_precision(const std::string& name, const torch::Device& device, const std::string& key) {
  if (name == "fp32") return Precision::fp32;
  if (name == "bf16") return Precision::bf16;
  if (name == "auto") return native_bf16(device) ? Precision::bf16 : Precision::fp32;
  GPS_FAIL(key, ": expected fp32, bf16 or auto, got '", name, "'");
}

const char* precision_name(Precision p) { return p == Precision::bf16 ? "bf16" : "fp32"; }

AutocastScope::AutocastScope(const torch::Device& device, Precision precision) {
  if (precision == Precision::fp32) return;
  type_ = device.type();
  active_ = true;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  was_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope frees the casted-weight cache, as torch.autocast does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, was_dtype_);
}

Float32Scope::Float32Scope()
    : cpu_(at::autocast::is_autocast_enabled(at::kCPU)), cuda_(at::autocast::is_autocast_enabled(at::kCUDA)) {
  if (cpu_) at::autocast::set_autocast_enabled(at::kCPU, false);
  if (cuda_) at::autocast::set_autocast_enabled(at::kCUDA, false);
}

Float32Scope::~Float32Scope() {
  if (cpu_) at::autocast::set_autocast_enabled(at::kCPU, true);
  if (cuda_) at::autocast::set_autocast_enabled(at::kCUDA, true);
}

torch::Tensor to_float32(const torch::Tensor& t) {
  const auto s = t.scalar_type();
  return s == torch::kFloat32 || s == torch::kFloat64 ? t : t.to(torch::kFloat32);
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto convert = [](torch::Tensor& t) {
    if (t.defined() && t.dim() == 4) t.set_data(t.contiguous(torch::MemoryFormat::ChannelsLast));
  };
  for (auto& p : module.parameters()) convert(p);
  for (auto& b : module.buffers()) convert(b);
}

torch::Tensor with_memory_format(const torch::Tensor& x, bool channels_last) {
  return x.contiguous(channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
}

}  // namespace gps
