#include "gps/prior/file_priors.h"
#include "gps/prior/sidecar.h"

#include "gps/augment/augment.h"
#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/io/fs.h"
#include "gps/io/npy.h"
#include "gps/methods/method.h"
#include "gps/methods/run_reader.h"
#include "gps/models/features.h"

#include <torch/script.h>

#include <cstdlib>
#include <filesystem>

namespace gps {

namespace fs = std::filesystem;

std::string file_identity(const std::string& path, const std::string& option) {
  GPS_CHECK(fs::exists(path), option, ": ", path, " does not exist");
  const auto t = fs::last_write_time(path).time_since_epoch().count();
  const auto size = fs::is_regular_file(path) ? fs::file_size(path) : 0;
  return str_cat(fs::absolute(path).string(), "@", size, ":", t);
}

// ---- NpyPrior ----

torch::Tensor NpyPrior::embed(const Dataset& d) const {
  const std::string& path = d.split == "test" ? test_ : train_;
  const char* key = d.split == "test" ? "prior.test_path" : "prior.path";
  GPS_CHECK(!path.empty(), key, ": no embeddings file for the ", d.split, " split (", d.name, ")");
  auto e = load_npy(path);
  GPS_CHECK(e.scalar_type() == torch::kFloat32, path, ": embeddings must be float32, got ", e.scalar_type(),
            " (save with arr.astype(np.float32))");
  GPS_CHECK(e.dim() == 2, path, ": embeddings must be 2-D [N, D], got shape ", e.sizes());
  if (e.size(0) == d.size()) return e;
  const int64_t full = d.source_size > 0 ? d.source_size : d.size();
  GPS_CHECK(e.size(0) == full && d.source_index.defined(), path, ": has ", e.size(0), " rows but ", d.name, " has ",
            d.size(), " images", full != d.size() ? str_cat(" (", full, " in the full split)") : std::string());
  return e.index_select(0, d.source_index).contiguous();
}

std::string NpyPrior::describe() const {
  return str_cat("npy(", file_identity(train_, "prior.path"), ")");
}

// ---- TorchScriptPrior ----

struct TorchScriptPrior::Impl {
  torch::jit::script::Module module;
  TorchScriptInput input;
  torch::Device device = torch::kCPU;  // prior.device
};

TorchScriptPrior::TorchScriptPrior(const PriorConfig& cfg) : cfg_(cfg), impl_(std::make_shared<Impl>()) {
  GPS_CHECK(fs::exists(cfg.path), "prior.path: TorchScript file ", cfg.path, " does not exist");
  impl_->input = resolve_torchscript_input(cfg);
  try {
    impl_->device = resolve_device(cfg.device, "prior.device");
    impl_->module = torch::jit::load(cfg.path, impl_->device);
  } catch (const std::exception& e) {
    GPS_FAIL("prior.path: ", cfg.path, " is not a loadable TorchScript file (export with torch.jit.script or "
             "torch.jit.trace, then .save(); scripts/export_prior.py does both): ", e.what());
  }
  impl_->module.eval();
}

const TorchScriptInput& TorchScriptPrior::input() const { return impl_->input; }

torch::Tensor TorchScriptPrior::embed(const Dataset& d) const {
  torch::NoGradGuard no_grad;
  const TorchScriptInput& in = impl_->input;
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < d.size(); s += cfg_.batch_size) {
    const auto f = model_input_batch(in, d, s, std::min(cfg_.batch_size, d.size() - s), cfg_.path);
    const int64_t want = f.size(1);
    torch::jit::IValue out;
    try {
      out = impl_->module.forward({f.to(impl_->device)});
    } catch (const std::exception& e) {
      GPS_FAIL("prior.path: ", cfg_.path, " failed on input [", f.size(0), ", ", want, ", ", f.size(2), ", ",
               f.size(3), "] (check prior.input_size / prior.in_channels", in.sidecar.empty() ? "" : " / the sidecar ",
               in.sidecar, "): ", e.what());
    }
    GPS_CHECK(out.isTensor(), "prior.path: ", cfg_.path, " must return one tensor");
    auto e = out.toTensor().to(torch::kCPU, torch::kFloat32).flatten(1);
    GPS_CHECK(in.output_dim == 0 || e.size(1) == in.output_dim, "prior.path: ", cfg_.path, " returned ", e.size(1),
              " features per image but its sidecar ", in.sidecar, " says output_dim ", in.output_dim,
              " (re-export the model, or fix the sidecar)");
    parts.push_back(e.contiguous());
  }
  return torch::cat(parts, 0);
}

std::string TorchScriptPrior::describe() const {
  return str_cat("torchscript(", file_identity(cfg_.path, "prior.path"), ",", impl_->input.describe(), ")");
}

// ---- RunPrior ----

RunPrior::RunPrior(std::string run_dir, torch::Device device) : run_dir_(std::move(run_dir)), device_(device) {
  RunReader(run_dir_, "prior.path").checkpoint();  // a run, with a checkpoint: checked before any embedding
}

torch::Tensor RunPrior::embed(const Dataset& d) const {
  Method method = RunReader(run_dir_, "prior.path").load_method(d.channels(), device_);
  return extract_features(method->backbone(), d);  // on device_, returned on the CPU
}

std::string RunPrior::describe() const {
  return str_cat("run(", file_identity(RunReader(run_dir_, "prior.path").checkpoint(), "prior.path"), ")");
}

}  // namespace gps
