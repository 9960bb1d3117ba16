#include "gps/core/precision.h"

#include "gps/core/check.h"
#include "gps/core/env_info.h"

#include <ATen/autocast_mode.h>

#include <cctype>
#include <cstdlib>

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
  if (name == "fp64") return Precision::fp64;
  if (name == "auto") return native_bf16(device) ? Precision::bf16 : Precision::fp32;
  GPS_FAIL(key, ": expected fp32, bf16, fp64 or auto, got '", name, "'");
}

const char* precision_name(Precision p) {
  return p == Precision::bf16 ? "bf16" : p == Precision::fp64 ? "fp64" : "fp32";
}

torch::ScalarType weight_dtype(Precision p) { return p == Precision::fp64 ? torch::kFloat64 : torch::kFloat32; }

void to_dtype(torch::nn::Module& module, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  auto convert = [&](torch::Tensor& t) {
    if (t.defined() && t.is_floating_point() && t.scalar_type() != dtype) t.set_data(t.to(dtype));
  };
  for (auto& p : module.parameters()) convert(p);
  for (auto& b : module.buffers()) convert(b);
}

AutocastScope::AutocastScope(const torch::Device& device, Precision precision) {
  if (precision != Precision::bf16) return;
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

namespace gps {

bool onednn_avx2_kernels() {
  for (const char* var : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') continue;
    std::string isa(v);
    for (auto& c : isa) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (isa.rfind("SSE", 0) == 0 || isa.rfind("AVX2", 0) == 0 || isa == "AVX") return true;
  }
  return !environment_info()["cpu"]["flags"].value("avx512f", false);
}

std::string channels_last_hazard(torch::nn::Module& module, const torch::Device& device, Precision precision,
                                 bool avx2_kernels) {
  if (!device.is_cpu() || precision == Precision::fp64 || !avx2_kernels) return "";
  for (const auto& item : module.named_modules()) {
    const auto* conv = item.value()->as<torch::nn::Conv2d>();
    if (conv == nullptr) continue;
    const auto& o = conv->options;
    const auto k = *o.kernel_size(), s = *o.stride();
    if (k[0] == 1 && k[1] == 1 && (s[0] > 1 || s[1] > 1) && o.in_channels() < 8)
      return str_cat("the 1x1 convolution ", item.key(), " (stride ", s[0], ", ", o.in_channels(),
                     " input channels) would run oneDNN's AVX2 kernel, which corrupts the heap in channels-last "
                     "with fewer than 8 input channels");
  }
  return "";
}

}  // namespace gps
