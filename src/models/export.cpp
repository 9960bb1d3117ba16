#include "gps/models/export.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"
#include "gps/models/resnet.h"
#include "gps/models/vit.h"

#include <torch/script.h>

#include <cmath>
#include <sstream>

namespace gps {

namespace {

const ResNetImpl* as_resnet(Backbone& net) { return net ? dynamic_cast<ResNetImpl*>(net.get()) : nullptr; }
const VisionTransformerImpl* as_vit(Backbone& net) {
  return net ? dynamic_cast<VisionTransformerImpl*>(net.get()) : nullptr;
}

// Torchvision's names (ResNets) or timm's (ViTs), and TorchScript source for
// them: other backbones have neither.
void require_exportable(Backbone& net, const char* what) {
  GPS_CHECK(as_resnet(net) || as_vit(net), what, ": model.arch=", net ? net->name() : std::string("(none)"),
            " is neither a ResNet nor a ViT, and only those map to torchvision's or timm's names");
}

}  // namespace

std::map<std::string, torch::Tensor> backbone_state(Backbone& net) {
  require_exportable(net, "export");
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

// The ResNet's forward as in resnet.cpp: the same strides, paddings and
// downsample rule (a block has one when its stride or width changes).
void write_resnet(SourceWriter& w, const ModelConfig& model) {
  if (model.small_stem) {
    w.conv("x", "x", "conv1", 1, model.stem_padding);
  } else {
    w.conv("x", "x", "conv1", 2, 3);
  }
  w.bn("x", "bn1", true);
  if (!model.small_stem) w.line("x = torch.max_pool2d(x, [3, 3], [2, 2], [1, 1])");
  const bool deep = model.arch == "resnet50";
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
}

// The ViT's forward as in vit.cpp, position embeddings interpolated when
// the grid differs, attention written out (softmax(q k^T / sqrt(d)) v).
void write_vit(SourceWriter& w, const VisionTransformerImpl& v) {
  const int64_t D = v.shape().dim, H = v.shape().heads, d = D / H, p = v.patch_size(), G = v.grid();
  w.line("x = torch.conv2d(x, self.patch_embed_proj_weight, self.patch_embed_proj_bias, [", p, ", ", p,
         "], [0, 0], [1, 1], 1)");
  w.line("B = x.size(0)");
  w.line("gh = x.size(2)");
  w.line("gw = x.size(3)");
  w.line("x = torch.cat([self.cls_token.expand([B, -1, -1]), torch.transpose(torch.flatten(x, 2), 1, 2)], 1)");
  w.line("pos = self.pos_embed");
  w.line("if gh != ", G, " or gw != ", G, ":");
  w.line("    grid = torch.permute(torch.reshape(pos[:, 1:], [1, ", G, ", ", G, ", ", D, "]), [0, 3, 1, 2])");
  w.line("    grid = torch.upsample_bicubic2d(grid, [gh, gw], False)");
  w.line("    pos = torch.cat([pos[:, :1], torch.reshape(torch.permute(grid, [0, 2, 3, 1]), [1, gh * gw, ", D, "])], 1)");
  w.line("x = x + pos");
  w.line("T = x.size(1)");
  std::ostringstream scale;
  scale.precision(17);
  scale << 1.0 / std::sqrt(double(d));
  for (int64_t i = 0; i < v.shape().depth; ++i) {
    const std::string b = str_cat("self.blocks_", i, "_");
    w.line("h = torch.layer_norm(x, [", D, "], ", b, "norm1_weight, ", b, "norm1_bias, 1e-06)");
    w.line("qkv = torch.permute(torch.reshape(torch.linear(h, ", b, "attn_qkv_weight, ", b, "attn_qkv_bias), [B, T, 3, ",
           H, ", ", d, "]), [2, 0, 3, 1, 4])");
    w.line("a = torch.softmax(torch.matmul(qkv[0], torch.transpose(qkv[1], -2, -1)) * ", scale.str(), ", -1)");
    w.line("a = torch.reshape(torch.transpose(torch.matmul(a, qkv[2]), 1, 2), [B, T, ", D, "])");
    w.line("x = x + torch.linear(a, ", b, "attn_proj_weight, ", b, "attn_proj_bias)");
    w.line("h = torch.layer_norm(x, [", D, "], ", b, "norm2_weight, ", b, "norm2_bias, 1e-06)");
    w.line("x = x + torch.linear(torch.gelu(torch.linear(h, ", b, "mlp_fc1_weight, ", b, "mlp_fc1_bias)), ", b,
           "mlp_fc2_weight, ", b, "mlp_fc2_bias)");
  }
  w.line("x = torch.layer_norm(x[:, 0], [", D, "], self.norm_weight, self.norm_bias, 1e-06)");
}

}  // namespace

void save_backbone_torchscript(Backbone& net, const ModelConfig& model, int64_t in_channels, const std::string& path) {
  require_exportable(net, "export to TorchScript");
  const auto* vit = as_vit(net);
  torch::jit::Module m(vit ? "GpsViT" : "GpsResNet");
  for (const auto& p : net->named_parameters()) m.register_parameter(attr(p.key()), p.value().detach().clone(), false);
  for (const auto& b : net->named_buffers()) m.register_buffer(attr(b.key()), b.value().detach().clone());
  SourceWriter w;
  if (vit) {
    write_vit(w, *vit);
  } else {
    const bool deep = model.arch == "resnet50";
    GPS_CHECK(deep || model.arch == "resnet18", "model.arch: cannot export '", model.arch, "'");
    write_resnet(w, model);
  }
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
  nlohmann::json j = {{"format", "gps-ssl backbone"},
                      {"arch", model.arch},
                      {"in_channels", in_channels},
                      {"input_size", input_size},
                      {"channel_order", in_channels == 3 ? "RGB" : "gray"},
                      {"input_scale", "pixels / 255, then (x - mean) / std per channel"},
                      {"mean", mean},
                      {"std", std},
                      {"feature_dim", feature_dim}};
  if (model.arch.rfind("vit_", 0) == 0) {
    j["patch_size"] = model.patch_size;
    j["image_size"] = model.image_size;
    j["timm_names"] = true;
    j["note"] = str_cat("the class token's features after the final LayerNorm; backbone.npz holds timm's names "
                        "(timm.create_model('", model.arch, "_patch16_224', patch_size=", model.patch_size,
                        ", img_size=", model.image_size, ", in_chans=", in_channels, ", num_classes=0))");
    return j;
  }
  const bool tv = model.width == 64;
  j["width"] = model.width;
  j["small_stem"] = model.small_stem;
  j["stem"] = model.small_stem ? str_cat("conv3x3 stride 1 padding ", model.stem_padding, ", no max-pool")
                               : std::string("conv7x7 stride 2 padding 3 + max-pool 3x3 stride 2");
  j["stem_padding"] = model.stem_padding;
  j["torchvision_names"] = true;
  j["torchvision_loadable"] = tv;
  j["note"] = tv ? "load into torchvision.models." + model.arch +
                       "() after replacing conv1/maxpool as 'stem' says and fc by Identity (see README)"
                 : "width != 64: torchvision's ResNet cannot hold these shapes; use the TorchScript file";
  return j;
}

std::string load_backbone_state(Backbone& net, const std::map<std::string, torch::Tensor>& state,
                                const std::string& what) {
  require_exportable(net, what.c_str());
  const char* names = as_vit(net) ? "timm ViT" : "torchvision ResNet";
  const std::string first_conv = as_vit(net) ? "patch_embed.proj.weight" : "conv1.weight";
  torch::NoGradGuard no_grad;
  auto assign = [&](const std::string& name, torch::Tensor dst) {
    auto it = state.find(name);
    GPS_CHECK(it != state.end(), what, ": no tensor '", name, "' (expected ", names, " names)");
    torch::Tensor src = it->second.to(torch::kCPU);
    if (name == first_conv && src.dim() == 4 && dst.dim() == 4 && src.size(1) == 3 && dst.size(1) == 1)
      src = src.sum(1, /*keepdim=*/true);  // RGB filters applied to gray = R = G = B
    GPS_CHECK(src.sizes() == dst.sizes(), what, ": '", name, "' has shape ", src.sizes(), ", the backbone expects ",
              dst.sizes(), " (check model.arch, model.width, model.small_stem, model.patch_size and model.image_size)");
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
