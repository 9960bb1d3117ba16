// Device-generic training, search, evaluation and collectives. Every test
// runs on the CPU and, when a CUDA device is visible, again on cuda:0; the
// GPU check (scripts/gpu_check.sh) runs this binary on the GPU machine.
// Kept to gps_core and GoogleTest so that the GPU bundle stays small.
#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/data/registry.h"
#include "gps/distributed/process_group.h"
#include "gps/eval/evaluate.h"
#include "gps/methods/method.h"
#include "gps/models/features.h"
#include "gps/neighbors/knn_search.h"
#include "gps/neighbors/neighbor_table.h"
#include "gps/prior/file_priors.h"
#include "gps/prior/prior.h"
#include "gps/train/checkpoint.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"
#include "../test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace gps;
using ::testing::HasSubstr;

namespace {

bool cuda_visible() { return torch::cuda::is_available() && torch::cuda::device_count() > 0; }

// Test parameter: "cpu" or "cuda". The CUDA instances skip without a GPU.
// On CUDA the training loop runs with CUDA's sync debug mode set to error
// (GPS_SYNC_DEBUG, see trainer.h): a host wait for the device anywhere
// between two settles fails the test on the first GPU run, instead of
// slowing every step silently.
class OnDevice : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda" && !cuda_visible()) GTEST_SKIP() << "no CUDA device visible";
    setenv("GPS_SYNC_DEBUG", "error", 1);
    test::write_tiny_mnist(tmp.file("fm"), 80, 40);
  }
  void TearDown() override { unsetenv("GPS_SYNC_DEBUG"); }
  torch::Device device() const { return resolve_device(GetParam()); }
  Config config(const std::string& name, int64_t epochs = 2) {
    Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), epochs);
    c.train.device = GetParam();
    c.train.deterministic = true;  // bit-identical resume on a GPU
    c.eval.enabled = false;
    c.train.name = name;
    c.method.pred_hidden_dim = 16;
    c.method.queue_size = 40;
    return c;
  }
  // A small VAE prior trained on this test's device.
  Config vae_config(const std::string& name) {
    Config c = config(name);
    c.prior.kind = "vae";
    c.prior.latent_dim = 8;
    c.prior.epochs = 2;
    c.prior.input_size = 16;
    c.prior.device = GetParam();
    return c;
  }
  static nlohmann::json summary_of(const std::string& run_dir) {
    std::ifstream f(run_dir + "/summary.json");
    return nlohmann::json::parse(f);
  }
  test::TempDir tmp;
};

std::string device_name(const ::testing::TestParamInfo<std::string>& p) { return p.param; }

// All five methods, plain and GPS, train with finite losses and weights;
// the summary names the device, and on CUDA the peak GPU memory.
TEST_P(OnDevice, EveryMethodTrainsPlainAndGps) {
  for (const std::string name : test::builtin_methods()) {
    for (const bool gps : {false, true}) {
      Config c = config(name + (gps ? "-gps" : "-plain"));
      c.method.name = name;
      c.gps = gps;
      c.train.precision = "auto";  // bf16 where the device has it natively
      c.train.channels_last = true;
      // Width 8: channels-last convolutions with 2 or 4 channels corrupt the
      // heap in LibTorch 2.11's CPU kernels on an AVX2-only CPU (AMD EPYC,
      // no AVX-512; `gps train ... model.width=4 train.channels_last=true`
      // aborts with "corrupted size vs. prev_size"); width 8 runs.
      c.model.width = 8;
      const auto r = train(c, "test");
      ASSERT_TRUE(std::isfinite(r.final_loss)) << c.train.name;
      for (const auto& w : test::weights_of(c, r.run_dir))
        EXPECT_TRUE(torch::isfinite(w).all().item<bool>()) << c.train.name;
      const auto s = summary_of(r.run_dir);
      EXPECT_EQ(s["device"], device().str());
      EXPECT_GE(s["data_wait_seconds"].get<double>(), 0.0);
      if (device().is_cuda()) {
        EXPECT_GT(r.gpu_peak_allocated, 0) << c.train.name;
        EXPECT_GE(r.gpu_peak_reserved, r.gpu_peak_allocated);
        EXPECT_GT(s["gpu_memory_mib"]["peak_reserved"].get<double>(), 0.0);
        EXPECT_GT(s["prefetch"].get<int>(), 0) << "prefetch is on by default on CUDA";
      } else {
        EXPECT_FALSE(s.contains("gpu_memory_mib"));
        EXPECT_EQ(s["prefetch"].get<int>(), 0) << "prefetch is off by default on the CPU";
      }
    }
  }
}

// ViT-Tiny with multi-crop (2 global views of 12 px, 2 local of 8 px: the
// position embeddings interpolated), GPS, AdamW with the weight-decay
// cosine, bf16 where the device has it: DINO and SwAV train with finite
// weights, without a host wait inside the step (GPS_SYNC_DEBUG=error).
TEST_P(OnDevice, VitTinyTrainsMultiCropMethods) {
  for (const std::string name : {"dino", "swav"}) {
    Config c = config("vit-" + name);
    c.method.name = name;
    c.method.num_prototypes = 32;
    c.model.arch = "vit_tiny";
    c.model.patch_size = 4;
    c.model.image_size = 12;
    c.augment.preset = "strong";
    c.augment.crop_size = 12;
    c.augment.local_crops = 2;
    c.augment.local_size = 8;
    c.optim.name = "adamw";
    c.optim.lr = 5e-4;
    c.optim.weight_decay = 0.04;
    c.optim.weight_decay_end = 0.4;
    c.train.precision = "auto";
    c.gps = true;
    const auto r = train(c, "test");
    ASSERT_TRUE(std::isfinite(r.final_loss)) << c.train.name;
    for (const auto& w : test::weights_of(c, r.run_dir)) EXPECT_TRUE(torch::isfinite(w).all().item<bool>()) << name;
  }
}

// An interrupted run resumes to the same weights, bit for bit, with the
// table refreshed from the model (torch search on the device) and prefetch
// on. On CUDA this needs train.deterministic.
TEST_P(OnDevice, InterruptedRunResumesBitIdentically) {
  for (const std::string method : {"simclr", "byol"}) {
    Config c = config(method + "-ref", 3);
    c.method.name = method;
    c.neighbors.refresh_every = 1;
    c.neighbors.search.backend = "torch";
    c.neighbors.search.device = GetParam();
    c.train.prefetch = "true";
    c.train.loader_threads = 2;
    c.optim.name = method == "byol" ? "lars" : "sgd";
    const auto ref = train(c, "test");
    c.train.name = method + "-stopped";
    request_stop(true);  // stops after the first step
    const auto first = train(c, "test");
    request_stop(false);
    ASSERT_TRUE(first.interrupted);
    ResumeOptions ro;
    ro.run_dir = first.run_dir;
    const auto done = train(c, "test", ro);
    EXPECT_EQ(done.steps, ref.steps);
    EXPECT_TRUE(test::bit_identical(test::weights_of(c, ref.run_dir), test::weights_of(c, done.run_dir))) << method;
  }
}

// Prefetching on worker threads changes nothing but the time.
TEST_P(OnDevice, PrefetchGivesTheSameWeights) {
  Config a = config("inline");
  a.train.prefetch = "false";
  Config b = config("prefetch");
  b.train.prefetch = "true";
  b.train.loader_threads = 2;
  const auto ra = train(a, "test"), rb = train(b, "test");
  EXPECT_TRUE(test::bit_identical(test::weights_of(a, ra.run_dir), test::weights_of(b, rb.run_dir)));
}

// The NaN policy on the device: stop naming the step, or roll back.
TEST_P(OnDevice, NonFiniteLossStopsOrRollsBack) {
  Config c = config("nan");
  c.optim.lr = 1e30;
  c.optim.warmup_epochs = 0;
  EXPECT_THAT(test::error_of([&] { train(c, "test"); }), HasSubstr("non-finite loss at step"));
  c.train.name = "rollback";
  c.train.nan_policy = "rollback";
  c.train.nan_lr_factor = 1e-6;
  c.train.nan_max_rollbacks = 10;
  c.train.checkpoint_every_steps = 1;
  const auto r = train(c, "test");
  EXPECT_EQ(r.steps, 8);
  EXPECT_TRUE(std::isfinite(r.final_loss));
}

// The torch search on the device finds FAISS's exact neighbours.
TEST_P(OnDevice, TorchSearchOnTheDeviceEqualsFaiss) {
  torch::manual_seed(1);
  const auto x = torch::randn({500, 24});
  SearchOptions faiss;
  faiss.backend = "faiss";
  SearchOptions torch_search;
  torch_search.backend = "torch";
  torch_search.device = device().str();
  for (const std::string metric : {"l2", "cosine"}) {
    faiss.metric = torch_search.metric = metric;
    const auto a = knn_search(x, x, 6, faiss);
    const auto b = knn_search(x, x, 6, torch_search);
    EXPECT_TRUE(b.ids.device().is_cpu()) << "results come back where the inputs are";
    EXPECT_TRUE(torch::allclose(a.dists, b.dists, 1e-3, 1e-3)) << metric;
    // The same neighbours, except where two are tied to float rounding (a
    // GPU's matmul sums in another order than FAISS's BLAS): there the
    // distance at that rank must agree, whichever id came first.
    const auto differ = a.ids.ne(b.ids);
    const auto tie_ok = (a.dists - b.dists).abs().le(1e-4 * (1 + a.dists.abs()));
    EXPECT_TRUE(differ.logical_not().logical_or(tie_ok).all().item<bool>()) << metric;
    EXPECT_LE(differ.sum().item<int64_t>(), a.ids.numel() / 100) << metric << ": more swaps than near-ties explain";
  }
  // Inputs already on the device stay there.
  const auto on = knn_search(x.to(device()), x.to(device()), 3, torch_search);
  EXPECT_EQ(on.ids.device(), device());
}

// Features extracted and probed on the device agree with the CPU.
TEST_P(OnDevice, EvaluationOnTheDeviceMatchesTheCpu) {
  Config c = config("eval");
  const auto r = train(c, "test");
  Method m = make_method(c.method, c.model, 1);
  load_method_weights(r.run_dir + "/checkpoint.pt", *m);
  const Dataset train_set = load_dataset(c.data, "train"), test_set = load_dataset(c.data, "test");
  const auto cpu_train = extract_features(m->backbone(), train_set, 64, torch::kCPU);
  const auto cpu_test = extract_features(m->backbone(), test_set, 64, torch::kCPU);
  m->to(device());
  const auto dev_train = extract_features(m->backbone(), train_set, 64, device());
  const auto dev_test = extract_features(m->backbone(), test_set, 64, device());
  EXPECT_TRUE(torch::allclose(dev_train.cpu(), cpu_train, 1e-3, 1e-4));
  const auto on_cpu = evaluate_features(cpu_train, train_set, cpu_test, test_set, c.eval, 0);
  const auto on_dev = evaluate_features(dev_train, train_set, dev_test, test_set, c.eval, 0);
  EXPECT_NEAR(on_dev.knn_top1, on_cpu.knn_top1, 2.6);  // one test image of 40 either way
  EXPECT_NEAR(on_dev.linear_top1, on_cpu.linear_top1, 5.1);
}

// Priors whose networks run on prior.device: a VAE trained there drives a
// GPS run, and an earlier run's backbone embeds there as on the CPU.
TEST_P(OnDevice, PriorsRunOnTheDevice) {
  Config c = vae_config("vae-prior");
  const auto r = train(c, "test");
  EXPECT_TRUE(std::isfinite(r.final_loss));
  const Dataset train_set = load_dataset(c.data, "train");
  const auto on_cpu = RunPrior(r.run_dir, torch::kCPU).embed(train_set);
  const auto on_dev = RunPrior(r.run_dir, device()).embed(train_set);
  EXPECT_TRUE(on_dev.device().is_cpu());
  EXPECT_TRUE(torch::allclose(on_dev, on_cpu, 1e-3, 1e-4));
}

// The VAE prior is a function of prior.seed alone: its reparameterisation
// noise comes from the seeded CPU generator on every device, so neither
// train.seed (the global generators' state) nor the device's own generator
// changes it; its cache key names only the prior's seed.
TEST_P(OnDevice, VaePriorIgnoresTheTrainingSeed) {
  Config c = vae_config("vae-seed");
  const Dataset train_set = load_dataset(c.data, "train");
  torch::Tensor first;
  for (const uint64_t train_seed : {1u, 2u}) {
    torch::manual_seed(train_seed);  // what the trainer does with train.seed (every device's generator)
    if (device().is_cuda()) torch::randn({1000}, device());  // and a CUDA stream moved on
    const auto emb = make_prior(c.prior)->embed(train_set);  // no cache: trained each time
    if (!first.defined()) first = emb;
    else EXPECT_TRUE(torch::equal(emb, first)) << "max diff " << (emb - first).abs().max().item<double>();
  }
}

// fp32 means fp32: TF32 (on by default in cuDNN on Ampere and later) is off
// unless train.tf32 asks for it; env.json records what the run used.
TEST_P(OnDevice, Fp32IsFp32UnlessTf32IsAsked) {
  for (const bool tf32 : {false, true}) {
    Config c = config(tf32 ? "tf32" : "fp32", 1);
    c.train.tf32 = tf32;
    const auto r = train(c, "test");
    std::ifstream f(r.run_dir + "/env.json");
    const auto env = nlohmann::json::parse(f);
    ASSERT_TRUE(env.contains("tf32")) << env.dump();
    EXPECT_EQ(env["tf32"]["cudnn"].get<bool>(), tf32);
    EXPECT_EQ(env["tf32"]["cublas"].get<bool>(), tf32);
    EXPECT_EQ(at::globalContext().allowTF32CuDNN(), tf32);
  }
  configure_tf32(false);
}

// A one-rank group on the device: Gloo on the CPU, NCCL on CUDA. CPU
// tensors pass through NCCL by a device copy.
TEST_P(OnDevice, OneRankGroupRunsEveryCollective) {
  dist::DistEnv env;
  env.port = 0;  // one rank: the store takes any free port
  env.timeout_s = 60;
  auto g = dist::Group::connect(env, device());
  EXPECT_EQ(g->nccl(), device().is_cuda());
  for (const torch::Device d : {torch::Device(torch::kCPU), device()}) {
    auto t = torch::arange(6, torch::TensorOptions().dtype(torch::kFloat32).device(d));
    g->all_reduce_sum(t);
    EXPECT_TRUE(torch::equal(t.cpu(), torch::arange(6, torch::kFloat32))) << d;
    EXPECT_EQ(g->all_gather(t).device(), d);
    EXPECT_TRUE(torch::equal(g->all_gather(t).cpu(), torch::arange(6, torch::kFloat32)));
    g->broadcast(t);
    EXPECT_EQ(t.device(), d);
  }
  NeighborTable table = self_table(5);
  broadcast_table(*g, table);
  EXPECT_TRUE(torch::equal(table.ids, self_table(5).ids));
  g->barrier();
}

INSTANTIATE_TEST_SUITE_P(Devices, OnDevice, ::testing::Values("cpu", "cuda"), device_name);

// Local rank r trains on cuda:r; every error names the variable to change.
TEST(DistDevices, LocalRankPicksItsGpu) {
  dist::DistEnv env;
  env.world = env.local_world = 2;
  env.rank = env.local_rank = 1;
  EXPECT_EQ(env.device_for("cpu"), torch::Device(torch::kCPU));
  if (!cuda_visible()) {
    EXPECT_EQ(env.device_for("auto"), torch::Device(torch::kCPU));
    EXPECT_THAT(test::error_of([&] { env.device_for("cuda"); }), HasSubstr("no CUDA device is visible"));
    return;
  }
  const int64_t n = int64_t(torch::cuda::device_count());
  env.cuda_visible_devices = "";  // the machine's own view, whatever this process was started with
  if (n >= 2) {
    EXPECT_EQ(env.device_for("cuda"), torch::Device(torch::kCUDA, 1));
  } else {
    EXPECT_THAT(test::error_of([&] { env.device_for("cuda"); }), HasSubstr("LOCAL_RANK=1"));
    env.cuda_visible_devices = "1";  // a scheduler gave this rank one GPU
    EXPECT_EQ(env.device_for("cuda"), torch::Device(torch::kCUDA, 0));
    env.cuda_visible_devices = "";
  }
  EXPECT_THAT(test::error_of([&] { env.device_for("cuda:0"); }), HasSubstr("one GPU per process"));
  env.world = env.local_world = 1;
  env.rank = env.local_rank = 0;
  EXPECT_EQ(env.device_for("cuda:0"), torch::Device(torch::kCUDA, 0));
}

// Which GPU local rank r takes, for every layout (no GPU needed: the count
// of visible devices is an argument). torchrun's convention where the
// process sees every GPU of the machine; the one GPU it sees where a
// scheduler gives each rank its own through CUDA_VISIBLE_DEVICES.
TEST(DistDevices, CudaIndexForEveryLayout) {
  dist::DistEnv env;
  env.world = env.local_world = 4;
  env.rank = env.local_rank = 3;
  EXPECT_EQ(env.cuda_index(4), 3);  // all four GPUs visible: cuda:3
  EXPECT_EQ(env.cuda_index(8), 3);
  EXPECT_THAT(test::error_of([&] { env.cuda_index(2); }), HasSubstr("LOCAL_RANK=3"));
  EXPECT_THAT(test::error_of([&] { env.cuda_index(1); }), HasSubstr("CUDA_VISIBLE_DEVICES"));
  env.cuda_visible_devices = "3";  // one GPU per rank through CUDA_VISIBLE_DEVICES
  EXPECT_EQ(env.cuda_index(1), 0);
  EXPECT_EQ(env.cuda_index(4), 3);  // every GPU visible after all: torchrun's rule
  EXPECT_THAT(test::error_of([&] { env.cuda_index(2); }), HasSubstr("LOCAL_RANK=3"));
  EXPECT_THAT(test::error_of([&] { env.cuda_index(0); }), HasSubstr("no CUDA device"));
}

// prior.device and neighbors.device "auto" follow train.device (the GPU
// this rank trains on, cuda:1 for local rank 1), not cuda:0.
TEST(DistDevices, AutoDevicesFollowTrainDevice) {
  EXPECT_EQ(follow_device("auto", torch::Device(torch::kCUDA, 1)), "cuda:1");
  EXPECT_EQ(follow_device("auto", torch::Device(torch::kCPU)), "cpu");
  EXPECT_EQ(follow_device("cpu", torch::Device(torch::kCUDA, 1)), "cpu");
  EXPECT_EQ(follow_device("cuda:0", torch::Device(torch::kCUDA, 1)), "cuda:0");
  Config c;
  c.train.device = "cuda:1";
  c.prior.device = "auto";
  c.neighbors.search.device = "auto";
  const Config r = with_auto_devices_resolved(c, torch::Device(torch::kCUDA, 1));
  EXPECT_EQ(r.prior.device, "cuda:1");
  EXPECT_EQ(r.neighbors.search.device, "cuda:1");
}

}  // namespace
