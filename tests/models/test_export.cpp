// Export and import of backbones: TorchScript equals the C++ module, the
// torchvision-named state round-trips, and Python (when Debian's torchvision
// is installed) reproduces `gps embed` from the exported files.
#include "test_util.h"

#include "gps/io/npy.h"
#include "gps/io/npz.h"
#include "gps/models/export.h"
#include "gps/models/resnet.h"
#include "gps/methods/method.h"
#include "gps/train/checkpoint.h"
#include "gps/train/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <array>
#include <cstdio>
#include <sys/wait.h>

namespace {

using gps::test::TempDir;
using ::testing::HasSubstr;

// A backbone whose batch-norm statistics are not the identity, so eval mode matters.
gps::Backbone random_backbone(const gps::ModelConfig& m, int64_t channels) {
  torch::manual_seed(3);
  auto net = gps::make_backbone(m, channels);
  torch::NoGradGuard no_grad;
  for (auto& b : net->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.1);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
  }
  for (auto& p : net->named_parameters())
    if (p.key().find("bn") != std::string::npos || p.key().find("downsample.1") != std::string::npos)
      p.value().uniform_(0.5, 1.5);
  net->eval();
  return net;
}

struct ArchCase {
  std::string arch;
  bool small_stem;
  int64_t channels, size;
};

class TorchScriptExport : public ::testing::TestWithParam<ArchCase> {};

TEST_P(TorchScriptExport, EqualsTheCppModule) {
  const ArchCase& a = GetParam();
  gps::ModelConfig m;
  m.arch = a.arch;
  m.width = 4;
  m.small_stem = a.small_stem;
  auto net = random_backbone(m, a.channels);
  TempDir tmp;
  gps::save_backbone_torchscript(net, m, a.channels, tmp.file("b.pt"));
  auto scripted = torch::jit::load(tmp.file("b.pt"));
  const auto x = torch::randn({3, a.channels, a.size, a.size});
  torch::NoGradGuard no_grad;
  const auto want = net->forward(x);
  const auto got = scripted.forward({x}).toTensor();
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Archs, TorchScriptExport,
                         ::testing::Values(ArchCase{"resnet18", true, 1, 28}, ArchCase{"resnet18", false, 3, 64},
                                           ArchCase{"resnet50", true, 3, 32}),
                         [](const auto& info) {
                           return info.param.arch + (info.param.small_stem ? "_small" : "_imagenet");
                         });

TEST(BackboneState, RoundTripsThroughNpzWithTorchvisionNames) {
  gps::ModelConfig m;
  m.width = 4;
  auto net = random_backbone(m, 1);
  auto state = gps::backbone_state(net);
  EXPECT_TRUE(state.count("conv1.weight"));
  EXPECT_TRUE(state.count("layer2.0.downsample.0.weight"));
  EXPECT_TRUE(state.count("layer4.1.bn2.running_var"));
  TempDir tmp;
  gps::save_npz(tmp.file("b.npz"), state);
  auto loaded = gps::load_npz(tmp.file("b.npz"));
  loaded["fc.weight"] = torch::zeros({10, 32});  // a torchvision classifier: ignored
  auto fresh = gps::make_backbone(m, 1);
  const std::string note = gps::load_backbone_state(fresh, loaded, "b.npz");
  EXPECT_THAT(note, HasSubstr("ignored: fc.weight"));
  fresh->eval();
  const auto x = torch::randn({2, 1, 28, 28});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(fresh->forward(x), net->forward(x)));
}

TEST(BackboneState, RgbStemInitialisesAGrayBackbone) {
  gps::ModelConfig m;
  m.width = 4;
  auto rgb = random_backbone(m, 3);
  auto state = gps::backbone_state(rgb);
  auto gray = gps::make_backbone(m, 1);
  gps::load_backbone_state(gray, state, "rgb");
  gray->eval();
  // A gray image through the summed filters equals the same image as R = G = B.
  const auto x = torch::rand({2, 1, 28, 28});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(gray->forward(x), rgb->forward(x.expand({2, 3, 28, 28})), 1e-4, 1e-5));
}

TEST(BackboneState, MissingOrMisshapenTensorsAreNamed) {
  gps::ModelConfig m;
  m.width = 4;
  auto net = gps::make_backbone(m, 1);
  auto state = gps::backbone_state(net);
  state.erase("layer3.1.conv2.weight");
  EXPECT_THAT(gps::test::error_of([&] { gps::load_backbone_state(net, state, "w.npz"); }),
              HasSubstr("w.npz: no tensor 'layer3.1.conv2.weight'"));
  state = gps::backbone_state(net);
  m.width = 8;
  auto wider = gps::make_backbone(m, 1);
  EXPECT_THAT(gps::test::error_of([&] { gps::load_backbone_state(wider, state, "w.npz"); }),
              HasSubstr("model.width"));
}

TEST(BackboneState, InitFromStartsTrainingFromTheGivenWeights) {
  TempDir tmp;
  gps::test::write_tiny_mnist(tmp.file("fm"), 60, 20);
  gps::Config c = gps::test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.eval.enabled = false;
  c.optim.lr = 0;  // the weights stay where they start
  c.optim.warmup_start_lr = 0;
  c.optim.warmup_epochs = 0;
  c.method.name = "byol";
  auto src = random_backbone(c.model, 1);
  gps::save_npz(tmp.file("init.npz"), gps::backbone_state(src));
  c.model.init_from = tmp.file("init.npz");
  const auto r = gps::train(c, "test");
  auto m = gps::make_method(c.method, c.model, 1);
  gps::load_method_weights(r.run_dir + "/checkpoint.pt", *m);
  auto loaded = m->backbone()->named_parameters(), original = src->named_parameters();
  EXPECT_TRUE(torch::equal(loaded["conv1.weight"], original["conv1.weight"]));
  EXPECT_TRUE(torch::equal(loaded["layer4.1.conv2.weight"], original["layer4.1.conv2.weight"]));
  c.model.init_from = tmp.file("missing.npz");
  EXPECT_THAT(gps::test::error_of([&] { gps::train(c, "test"); }), HasSubstr("missing.npz"));
}

std::pair<int, std::string> shell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, out};
}

TEST(ExportToPython, TorchvisionAndTorchScriptReproduceGpsEmbed) {
  if (shell(GPS_PYTHON " -c 'import torch, torchvision, numpy'").first != 0)
    GTEST_SKIP() << GPS_PYTHON " has no torch/torchvision/numpy (the project venv: scripts/setup.sh)";
  TempDir tmp;
  gps::test::write_tiny_mnist(tmp.file("fm"), 60, 20, 28);
  const std::string gps = std::string(GPS_BINARY_DIR) + "/gps";
  // Width 64: the shapes torchvision's resnet18 holds.
  auto r = shell(gps + " train data.root=" + tmp.file("fm") + " train.out_dir=" + tmp.file("runs") +
                 " train.name=run model.width=64 method.proj_hidden_dim=32 method.proj_output_dim=16"
                 " optim.batch_size=20 optim.epochs=1 optim.warmup_epochs=0 eval.enabled=false train.progress=false");
  ASSERT_EQ(r.first, 0) << r.second;
  const std::string run = tmp.file("runs/run");
  r = shell(gps + " export --run " + run + " -o " + tmp.file("export") + " --embeddings");
  ASSERT_EQ(r.first, 0) << r.second;
  r = shell(gps + " embed -c " + run + "/config.yaml prior.kind=run prior.path=" + run + " --split test -o " +
            tmp.file("embed.npy"));
  ASSERT_EQ(r.first, 0) << r.second;
  r = shell(GPS_PYTHON " " + std::string(GPS_SOURCE_DIR) + "/tests/python/check_export.py " + tmp.file("export") +
            " " + tmp.file("fm/t10k-images-idx3-ubyte.gz") + " " + tmp.file("embed.npy"));
  EXPECT_EQ(r.first, 0) << r.second;
  EXPECT_THAT(r.second, HasSubstr("torchscript max|diff|"));
  // The exported test embeddings are gps embed's, exactly, and conv1 has torchvision's name and shape.
  EXPECT_TRUE(torch::equal(gps::load_npy(tmp.file("export/test_embeddings.npy")), gps::load_npy(tmp.file("embed.npy"))));
  EXPECT_EQ(gps::load_npz(tmp.file("export/backbone.npz")).at("conv1.weight").sizes(),
            (std::vector<int64_t>{64, 1, 3, 3}));
}

}  // namespace
