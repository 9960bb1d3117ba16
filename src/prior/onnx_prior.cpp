// ONNX priors through OpenCV's dnn module (no ONNX Runtime dependency), in
// the plugin libgps_onnx.so (gps/io/plugins.h).
#include "gps/core/check.h"
#include "gps/io/plugins.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/sidecar.h"

#include <opencv2/core.hpp>

#include <filesystem>

namespace gps {

struct OnnxPrior::Impl {
  std::unique_ptr<plugins::OnnxNet> net;  // forward() is not const: embed() serialises on this object
  TorchScriptInput input;
};

OnnxPrior::OnnxPrior(const PriorConfig& cfg) : cfg_(cfg), impl_(std::make_shared<Impl>()) {
  GPS_CHECK(std::filesystem::exists(cfg.path), "prior.path: ONNX file ", cfg.path, " does not exist");
  impl_->input = resolve_torchscript_input(cfg);
  impl_->net = std::make_unique<plugins::OnnxNet>(cfg.path);
}

const TorchScriptInput& OnnxPrior::input() const { return impl_->input; }

torch::Tensor OnnxPrior::embed(const Dataset& d) const {
  const TorchScriptInput& in = impl_->input;
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < d.size(); s += cfg_.batch_size) {
    const auto f = model_input_batch(in, d, s, std::min(cfg_.batch_size, d.size() - s), cfg_.path);
    const int dims[4] = {int(f.size(0)), int(f.size(1)), int(f.size(2)), int(f.size(3))};
    // A view of the tensor's memory: the net copies it in setInput.
    cv::Mat blob(4, dims, CV_32F, const_cast<float*>(f.data_ptr<float>()));
    cv::Mat out;
    try {
      out = impl_->net->forward(blob);
    } catch (const gps::Error& e) {
      GPS_FAIL("prior.path: ", cfg_.path, " failed on input [", dims[0], ", ", dims[1], ", ", dims[2], ", ", dims[3],
               "] (check prior.input_size / prior.in_channels", in.sidecar.empty() ? "" : " / the sidecar ", in.sidecar,
               "; export with a dynamic batch axis): ", e.what());
    }
    GPS_CHECK(out.type() == CV_32F && out.dims >= 2 && out.size[0] == dims[0], "prior.path: ", cfg_.path,
              " must return float32 [B, D] features for a batch of ", dims[0], ", got ", out.dims, "-D output with ",
              out.dims > 0 ? out.size[0] : 0, " rows");
    GPS_CHECK(out.isContinuous(), "prior.path: ", cfg_.path, ": non-contiguous output");
    const int64_t width = int64_t(out.total()) / dims[0];
    auto e = torch::from_blob(out.ptr<float>(), {dims[0], width}, torch::kFloat32).clone();
    GPS_CHECK(in.output_dim == 0 || width == in.output_dim, "prior.path: ", cfg_.path, " returned ", width,
              " features per image but its sidecar ", in.sidecar, " says output_dim ", in.output_dim,
              " (re-export the model, or fix the sidecar)");
    parts.push_back(e);
  }
  GPS_CHECK(!parts.empty(), "prior.path: ", cfg_.path, ": nothing to embed in ", d.name);
  return torch::cat(parts, 0);
}

std::string OnnxPrior::describe() const {
  return str_cat("onnx(", file_identity(cfg_.path, "prior.path"), ",", impl_->input.describe(), ")");
}

}  // namespace gps
