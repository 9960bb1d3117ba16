#include "gps/models/export.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"
#include "gps/models/resnet.h"

#include <torch/script.h>

#include <sstream>

namespace gps {

namespace {

// Torchvision's names and the TorchScript source describe a ResNet: other
// backbones have neither.
void require_resnet(Backbone& net, const char* what) {
  GPS_CHECK(net && dynamic_cast<ResNetImpl*>(net.get()) != nullptr, what, ": model.arch=",
            net ? net->name() : std::string("(none)"), " is not a ResNet, and only ResNet backbones map to "
            "torchvision's names");
}

}  // namespace

std::map<std::string, torch::Tensor> backbone_state(Backbone& net) {
  require_resnet(net, "export");
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : net->named_parameters()) out[p.key()] = p.value().detach().to(torch::kCPU).clone();
  for (const auto& b : net->named_buffers()) out[b.key()] = b.value().detach().to(torch::kCPU).clone();
  return out;
}

namespace {

// "layer1.0.conv1.weight" -> "layer1_0_conv1_weight": TorchScript attribute names.
std::string attr(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}

// Writes TorchScript source for the backbone, one statement per line.
class SourceWriter {
 public:
  void conv(const std::string& in, const std::string& out, const std::string& prefix, int64_t stride, int64_t pad) {
    line(out, " = torch.conv2d(", in, ", self.", attr(prefix + ".weight"), ", None, [", stride, ", ", stride, "], [",
         pad, ", ", pad, "], [1, 1], 1)");
  }
  void bn(const std::string& x, const std::string& prefix, bool relu) {
    const std::string p = "self." + attr(prefix);
    const std::string call = str_cat("torch.batch_norm(", x, ", ", p, "_weight, ", p, "_bias, ", p, "_running_mean, ",
                                     p, "_running_var, False, 0.1, 1e-05, False)");
    line(x, " = ", relu ? "torch.relu(" + call + ")" : call);
  }
  template <typename... Args>
  void line(const Args&... args) {
    src_ << "    " << str_cat(args...) << "\n";
  }
  std::string str() const { return "def forward(self, x):\n" + src_.str() + "    return x\n"; }

 private:
  std::ostringstream src_;
};

}  // namespace

void save_backbone_torchscript(Backbone& net, const ModelConfig& model, int64_t in_channels, const std::string& path) {
  require_resnet(net, "export to TorchScript");
  torch::jit::Module m("GpsResNet");
  for (const auto& p : net->named_parameters()) m.register_parameter(attr(p.key()), p.value().detach().clone(), false);
  for (const auto& b : net->named_buffers()) m.register_buffer(attr(b.key()), b.value().detach().clone());

  // The architecture as in resnet.cpp: the same strides, paddings and
  // downsample rule (a block has one when its stride or width changes).
  SourceWriter w;
  if (model.small_stem) {
    w.conv("x", "x", "conv1", 1, model.stem_padding);
  } else {
    w.conv("x", "x", "conv1", 2, 3);
  }
  w.bn("x", "bn1", true);
  if (!model.small_stem) w.line("x = torch.max_pool2d(x, [3, 3], [2, 2], [1, 1])");
  const bool deep = model.arch == "resnet50";
  GPS_CHECK(deep || model.arch == "resnet18", "model.arch: cannot export '", model.arch, "'");
  const int64_t blocks[4] = {deep ? 3 : 2, deep ? 4 : 2, deep ? 6 : 2, deep ? 3 : 2};
  int64_t in = model.width;
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = model.width << s;
    for (int64_t b = 0; b < blocks[s]; ++b) {
      const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
      const std::string pre = str_cat("layer", s + 1, ".", b);
      const int64_t out = deep ? planes * BottleneckImpl::kExpansion : planes;
      if (deep) {
        w.conv("x", "y", pre + ".conv1", 1, 0);
        w.bn("y", pre + ".bn1", true);
        w.conv("y", "y", pre + ".conv2", stride, 1);
        w.bn("y", pre + ".bn2", true);
        w.conv("y", "y", pre + ".conv3", 1, 0);
        w.bn("y", pre + ".bn3", false);
      } else {
        w.conv("x", "y", pre + ".conv1", stride, 1);
        w.bn("y", pre + ".bn1", true);
        w.conv("y", "y", pre + ".conv2", 1, 1);
        w.bn("y", pre + ".bn2", false);
      }
      if (stride != 1 || in != out) {
        w.conv("x", "x", pre + ".downsample.0", stride, 0);
        w.bn("x", pre + ".downsample.1", false);
      }
      w.line("x = torch.relu(y + x)");
      in = out;
    }
  }
  w.line("x = torch.flatten(torch.adaptive_avg_pool2d(x, [1, 1]), 1)");
  try {
    m.define(w.str());
    m.eval();
    std::ostringstream bytes;  // in memory first: LibTorch's file writer aborts on a full disk
    m.save(bytes);
    atomic_write_text(path, bytes.str());
  } catch (const c10::Error& e) {
    GPS_FAIL("cannot write TorchScript backbone ", path, ": ", e.what_without_backtrace());
  }
}

nlohmann::json backbone_sidecar(const ModelConfig& model, int64_t in_channels, int64_t input_size,
                                const std::vector<float>& mean, const std::vector<float>& std, int64_t feature_dim) {
  const bool tv = model.width == 64;
  return {{"format", "gps-ssl backbone"},
          {"arch", model.arch},
          {"width", model.width},
          {"small_stem", model.small_stem},
          {"stem", model.small_stem ? str_cat("conv3x3 stride 1 padding ", model.stem_padding, ", no max-pool")
                                    : std::string("conv7x7 stride 2 padding 3 + max-pool 3x3 stride 2")},
          {"stem_padding", model.stem_padding},
          {"in_channels", in_channels},
          {"input_size", input_size},
          {"channel_order", in_channels == 3 ? "RGB" : "gray"},
          {"input_scale", "pixels / 255, then (x - mean) / std per channel"},
          {"mean", mean},
          {"std", std},
          {"feature_dim", feature_dim},
          {"torchvision_names", true},
          {"torchvision_loadable", tv},
          {"note", tv ? "load into torchvision.models." + model.arch +
                            "() after replacing conv1/maxpool as 'stem' says and fc by Identity (see README)"
                      : "width != 64: torchvision's ResNet cannot hold these shapes; use the TorchScript file"}};
}

std::string load_backbone_state(Backbone& net, const std::map<std::string, torch::Tensor>& state,
                                const std::string& what) {
  require_resnet(net, what.c_str());
  torch::NoGradGuard no_grad;
  auto assign = [&](const std::string& name, torch::Tensor dst) {
    auto it = state.find(name);
    GPS_CHECK(it != state.end(), what, ": no tensor '", name, "' (expected torchvision ResNet names)");
    torch::Tensor src = it->second.to(torch::kCPU);
    if (name == "conv1.weight" && src.dim() == 4 && dst.dim() == 4 && src.size(1) == 3 && dst.size(1) == 1)
      src = src.sum(1, /*keepdim=*/true);  // RGB filters applied to gray = R = G = B
    GPS_CHECK(src.sizes() == dst.sizes(), what, ": '", name, "' has shape ", src.sizes(), ", the backbone expects ",
              dst.sizes(), " (check model.arch, model.width and model.small_stem)");
    dst.copy_(src.to(dst.scalar_type()));
  };
  size_t used = 0;
  for (auto& p : net->named_parameters()) assign(p.key(), p.value()), ++used;
  for (auto& b : net->named_buffers()) {
    if (b.key().find("num_batches_tracked") != std::string::npos && !state.count(b.key())) continue;
    assign(b.key(), b.value()), ++used;
  }
  std::string ignored;
  auto params = net->named_parameters();
  auto buffers = net->named_buffers();
  for (const auto& [name, t] : state)
    if (!params.contains(name) && !buffers.contains(name)) ignored += (ignored.empty() ? "" : ", ") + name;
  return str_cat("loaded ", used, " tensors from ", what, ignored.empty() ? "" : "; ignored: " + ignored);
}

}  // namespace gps
