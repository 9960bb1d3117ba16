// Devices, mixed precision and memory format: train.device resolution,
// autocast scopes, every loss in bf16 against fp32, channels-last weights,
// bf16 training (finite, Proposition 1, exact resume), the thread count and
// the one OpenMP runtime.
#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/precision.h"
#include "gps/core/threads.h"
#include "gps/methods/losses.h"
#include "gps/methods/method.h"
#include "gps/train/checkpoint.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"
#include "test_util.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <set>
#include <thread>

using namespace gps;
using ::testing::HasSubstr;

namespace {

bool cuda_visible() { return torch::cuda::is_available() && torch::cuda::device_count() > 0; }

}  // namespace

TEST(Device, ResolvesSpecsAndRefusesMissingCuda) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  if (cuda_visible()) {
    EXPECT_EQ(resolve_device("auto"), torch::Device(torch::kCUDA, 0));
    EXPECT_EQ(resolve_device("cuda"), torch::Device(torch::kCUDA, 0));
    const std::string past = "cuda:" + std::to_string(torch::cuda::device_count());
    EXPECT_THAT(test::error_of([&] { resolve_device(past); }), HasSubstr("visible"));
  } else {
    EXPECT_EQ(resolve_device("auto"), torch::Device(torch::kCPU));
    const std::string msg = test::error_of([] { resolve_device("cuda"); });
    EXPECT_THAT(msg, HasSubstr("train.device=cuda"));
    EXPECT_THAT(msg, HasSubstr("no CUDA device is visible"));
    EXPECT_THAT(test::error_of([] { resolve_device("cuda:1"); }), HasSubstr("no CUDA device"));
  }
  Config c;
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda0"}) {
    c.train.device = bad;
    EXPECT_THAT(test::error_of([&] { c.validate(); }), HasSubstr("train.device")) << bad;
  }
  EXPECT_THAT(test::error_of([&] { c.set("train.precision", "fp16"); }), HasSubstr("train.precision"));
}

TEST(Device, TrainingOnCudaWithoutAGpuIsAClearError) {
  if (cuda_visible()) GTEST_SKIP() << "a CUDA device is visible";
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 10);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.train.device = "cuda";
  EXPECT_THAT(test::error_of([&] { train(c, "test"); }), HasSubstr("no CUDA device is visible"));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("runs"))) << "nothing is written before the device is known";
}

TEST(Precision, AutocastScopeRunsMatmulsInBf16AndRestores) {
  auto a = torch::randn({8, 8}), b = torch::randn({8, 8});
  const torch::Device cpu(torch::kCPU);
  {
    AutocastScope ac(cpu, Precision::bf16);
    EXPECT_EQ(a.mm(b).scalar_type(), torch::kBFloat16);
    {
      Float32Scope fp32;
      EXPECT_EQ(a.mm(b).scalar_type(), torch::kFloat32);
    }
    EXPECT_EQ(a.mm(b).scalar_type(), torch::kBFloat16) << "Float32Scope restores autocast";
  }
  EXPECT_EQ(a.mm(b).scalar_type(), torch::kFloat32);
  {
    AutocastScope off(cpu, Precision::fp32);
    EXPECT_EQ(a.mm(b).scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_EQ(parse_precision("auto", cpu), native_bf16(cpu) ? Precision::bf16 : Precision::fp32);
  EXPECT_THROW(parse_precision("fp8"), Error);
}

// Under autocast the losses compute in float32: the same value, bit for bit,
// as outside it; and bf16 inputs (what the network gives) stay within bf16
// rounding of the float32 loss.
TEST(Precision, EveryLossRunsInFloat32AndBf16InputsStayClose) {
  torch::manual_seed(3);
  auto z1 = torch::randn({32, 16}), z2 = z1 + 0.3 * torch::randn({32, 16});
  struct Case {
    const char* name;
    std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)> f;
    double rel_tol;
  };
  const std::vector<Case> cases = {
      {"nt_xent", [](auto& a, auto& b) { return nt_xent(a, b, 0.2); }, 0.02},
      {"byol", [](auto& a, auto& b) { return byol_loss(a, b); }, 0.03},
      {"nnclr", [](auto& a, auto& b) { return nnclr_loss(a, b, 0.2); }, 0.02},
      {"barlow_twins", [](auto& a, auto& b) { return barlow_twins_loss(a, b, 0.0051, 0.1).loss; }, 0.03},
      {"vicreg", [](auto& a, auto& b) { return vicreg_loss(a, b, 25, 25, 1, 1e-4).loss; }, 0.03},
      {"mocov3", [](auto& a, auto& b) { return mocov3_loss(a, b, 0.2); }, 0.02},
      {"simsiam", [](auto& a, auto& b) { return simsiam_loss(a, b); }, 0.03},
      {"dino", [](auto& a, auto& b) { return dino_loss({a, b}, {b, a}, torch::zeros({1, 16}), 0.1, 0.07); }, 0.03},
      {"swav", [](auto& a, auto& b) {
         return swav_loss({a, b}, {sinkhorn_knopp(b, 0.5, 3), sinkhorn_knopp(a, 0.5, 3)}, 0.1);
       }, 0.03},
  };
  for (const auto& c : cases) {
    const auto ref = c.f(z1, z2);
    ASSERT_EQ(ref.scalar_type(), torch::kFloat32) << c.name;
    torch::Tensor in_autocast, from_bf16;
    {
      AutocastScope ac(torch::kCPU, Precision::bf16);
      in_autocast = c.f(z1, z2);
      from_bf16 = c.f(z1.to(torch::kBFloat16), z2.to(torch::kBFloat16));
    }
    EXPECT_EQ(in_autocast.scalar_type(), torch::kFloat32) << c.name;
    EXPECT_TRUE(torch::equal(in_autocast, ref)) << c.name << ": autocast reached inside the loss";
    EXPECT_EQ(from_bf16.scalar_type(), torch::kFloat32) << c.name;
    const double r = ref.item<double>(), q = from_bf16.item<double>();
    EXPECT_NEAR(q, r, c.rel_tol * std::abs(r) + 1e-3) << c.name;
  }
  // Gradients reach bf16 inputs through the float32 region.
  auto zb = z1.to(torch::kBFloat16).requires_grad_(true);
  nt_xent(zb, z2.to(torch::kBFloat16), 0.2).backward();
  ASSERT_TRUE(zb.grad().defined());
  EXPECT_EQ(zb.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::isfinite(zb.grad()).all().item<bool>());
}

TEST(Precision, ChannelsLastKeepsValuesAndParameterIdentity) {
  ModelConfig mc;
  mc.width = 4;
  MethodConfig meth;
  meth.proj_hidden_dim = 8;
  meth.proj_output_dim = 4;
  Method m = make_method(meth, mc, 3);
  std::vector<torch::Tensor> before;
  std::vector<const void*> impls;
  for (auto& p : m->parameters()) before.push_back(p.detach().clone()), impls.push_back(p.unsafeGetTensorImpl());
  auto x = torch::randn({4, 3, 16, 16});
  m->eval();
  auto f_nchw = m->backbone()->forward(x);
  to_channels_last(*m);
  auto params = m->parameters();
  int64_t four_d = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].unsafeGetTensorImpl(), impls[i]);
    EXPECT_TRUE(torch::equal(params[i], before[i]));
    if (params[i].dim() == 4) {
      ++four_d;
      EXPECT_TRUE(params[i].is_contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
  EXPECT_GT(four_d, 0);
  auto f_cl = m->backbone()->forward(with_memory_format(x, true));
  EXPECT_TRUE(torch::allclose(f_cl, f_nchw, 1e-4, 1e-5));
}

class Bf16Training : public ::testing::Test {
 protected:
  void SetUp() override { test::write_tiny_mnist(tmp.file("fm"), 80, 20); }
  Config config(const std::string& name) {
    Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"));
    c.train.precision = "bf16";
    c.train.channels_last = true;
    c.eval.enabled = false;
    c.train.name = name;
    return c;
  }
  test::TempDir tmp;
};

TEST_F(Bf16Training, EveryMethodTrainsWithFiniteLosses) {
  for (const std::string name : test::builtin_methods()) {
    Config c = config(name);
    c.method.name = name;
    c.method.pred_hidden_dim = 16;
    c.method.queue_size = 40;
    const auto r = train(c, "test");
    EXPECT_TRUE(std::isfinite(r.final_loss)) << name;
    std::ifstream m(r.run_dir + "/metrics.jsonl");
    std::string line;
    int records = 0;
    while (std::getline(m, line)) {
      const auto j = nlohmann::json::parse(line);
      if (!j.contains("loss")) continue;
      ++records;
      EXPECT_TRUE(std::isfinite(j["loss"].get<double>())) << name << ": " << line;
    }
    EXPECT_EQ(records, 8) << name;
    for (const auto& w : test::weights_of(c, r.run_dir)) EXPECT_TRUE(torch::isfinite(w).all().item<bool>()) << name;
  }
}

// Proposition 1 in bf16 + channels-last: a self-only GPS table is plain SSL, bit for bit.
TEST_F(Bf16Training, SelfOnlyTableEqualsPlainInBf16) {
  Config plain = config("plain");
  plain.gps = false;
  Config gps = config("gps");
  gps.neighbors.rules.k = 1;
  const auto a = train(plain, "test"), b = train(gps, "test");
  EXPECT_TRUE(test::bit_identical(test::weights_of(plain, a.run_dir), test::weights_of(gps, b.run_dir)));
  // bf16 is not fp32: the same run in fp32 ends elsewhere.
  Config fp32 = plain;
  fp32.train.precision = "fp32";
  fp32.train.channels_last = false;
  fp32.train.name = "fp32";
  const auto c = train(fp32, "test");
  EXPECT_FALSE(test::bit_identical(test::weights_of(plain, a.run_dir), test::weights_of(fp32, c.run_dir)));
}

TEST_F(Bf16Training, InterruptedRunResumesBitIdentically) {
  Config c = config("ref");
  c.optim.name = "lars";
  const auto ref = train(c, "test");
  c.train.name = "stopped";
  request_stop(true);
  const auto first = train(c, "test");
  request_stop(false);
  ASSERT_TRUE(first.interrupted);
  ResumeOptions ro;
  ro.run_dir = first.run_dir;
  c.train.device = "cpu";  // may differ on resume: not a training key
  const auto done = train(c, "test", ro);
  EXPECT_EQ(done.steps, ref.steps);
  EXPECT_TRUE(test::bit_identical(test::weights_of(c, ref.run_dir), test::weights_of(c, done.run_dir)));
}

// A run trained on the GPU resumes on the CPU (and the checkpoint loads there).
TEST_F(Bf16Training, CudaCheckpointResumesOnTheCpu) {
  if (!cuda_visible()) GTEST_SKIP() << "no CUDA device";
  Config c = config("cuda");
  c.train.device = "cuda";
  request_stop(true);
  const auto first = train(c, "test");
  request_stop(false);
  ResumeOptions ro;
  ro.run_dir = first.run_dir;
  c.train.device = "cpu";
  const auto done = train(c, "test", ro);
  EXPECT_FALSE(done.interrupted);
  EXPECT_TRUE(std::isfinite(done.final_loss));
}

// train.threads=N runs N threads: LibTorch's pool, and one OpenMP runtime in the process.
TEST(Threads, TheRequestedCountRunsAndOneOpenMpIsLoaded) {
  EXPECT_EQ(set_threads(2), 2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  std::mutex mu;
  std::set<int> ids;
  at::parallel_for(0, 1 << 16, 1, [&](int64_t b, int64_t e) {
    volatile double sink = 0;
    for (int64_t i = b; i < e; ++i) sink = sink + std::sqrt(double(i));
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(at::get_thread_num());
  });
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(set_threads(1), 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> omp_libs;
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string file = path.substr(path.rfind('/') + 1);
    if (file.find("libgomp") != std::string::npos || file.find("libiomp") != std::string::npos ||
        file.find("libomp") != std::string::npos)
      omp_libs.insert(path);
  }
  EXPECT_EQ(omp_libs.size(), 1u) << "OpenMP runtimes loaded: " << ::testing::PrintToString(omp_libs);
  set_threads(1);
}

// Which library serves BLAS to the process: libtorch_cpu exports sgemm_ (its
// MKL) and FAISS links OpenBLAS; the first on the link line wins for both.
// LibTorch must come first (CMakeLists.txt, gps_lib): the measured numbers
// were made so, and a different order changes every run's floats.
TEST(Blas, GemmComesFromLibTorch) {
  void* f = dlsym(RTLD_DEFAULT, "sgemm_");
  ASSERT_NE(f, nullptr);
  Dl_info info{};
  ASSERT_NE(dladdr(f, &info), 0);
  EXPECT_THAT(std::string(info.dli_fname), HasSubstr("libtorch_cpu"));
}
