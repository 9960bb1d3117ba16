// No CPU hangs or crashes a run (issue 44):
// - channels-last falls back to the contiguous layout, with a logged note,
//   where oneDNN's AVX2 kernel for a strided 1x1 convolution with fewer than
//   8 input channels corrupts the heap (channels_last_hazard);
// - a second SIGTERM ends a run whose step never returns.
// An AVX2-only CPU is emulated on an AVX-512 machine with oneDNN's and
// ATen's own switches (ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2),
// under which the width-4 run below crashed or hung before the rule.
#include "gps/core/precision.h"
#include "gps/methods/method.h"
#include "gps/models/backbone.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"
#include "methods/toy_simsiam.h"
#include "test_spawn.h"
#include "test_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

using namespace gps;
using ::testing::HasSubstr;
using gps::test::ScopedEnv;

namespace {

std::string hazard_of(const std::string& arch, int64_t width, bool avx2, const torch::Device& device = torch::kCPU,
                      Precision precision = Precision::fp32) {
  ModelConfig m = test::tiny_model();
  m.arch = arch;
  m.width = width;
  Backbone backbone = make_backbone(m, 1);
  return channels_last_hazard(*backbone, device, precision, avx2);
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

// The rule: a ResNet below width 8 has a strided 1x1 downsample with fewer
// than 8 input channels; only oneDNN's AVX2 kernels on the CPU, in float32
// or bf16, are refused.
TEST(ChannelsLast, HazardIsAStrided1x1ConvolutionWithFewerThan8ChannelsOnAvx2) {
  for (int64_t w : {1, 2, 3, 4, 7}) {
    const std::string why = hazard_of("resnet18", w, /*avx2=*/true);
    EXPECT_THAT(why, HasSubstr("1x1 convolution")) << "width " << w;
    EXPECT_THAT(why, HasSubstr("stride 2")) << "width " << w;
  }
  EXPECT_EQ(hazard_of("resnet18", 8, true), "");
  EXPECT_EQ(hazard_of("resnet18", 64, true), "");
  EXPECT_EQ(hazard_of("resnet18", 4, /*avx2=*/false), "") << "AVX-512 kernels are not affected";
  EXPECT_EQ(hazard_of("resnet18", 4, true, torch::kCPU, Precision::fp64), "") << "float64 does not reach oneDNN";
  EXPECT_EQ(hazard_of("resnet18", 4, true, torch::Device("cuda:0")), "") << "a GPU does not run oneDNN";
}

TEST(ChannelsLast, OneDnnCapsAreReadFromTheEnvironment) {
  {
    ScopedEnv env({{"ONEDNN_MAX_CPU_ISA", "AVX2"}});
    EXPECT_TRUE(onednn_avx2_kernels());
  }
  {
    ScopedEnv env({{"DNNL_MAX_CPU_ISA", "avx2_vnni"}});
    EXPECT_TRUE(onednn_avx2_kernels());
  }
}

// The command (width 4, channels-last, batch 128 on 28-px images)
// under AVX2 kernels: it ends within a minute, says why channels-last is not
// used, and the summary records the layout that ran. One process and two.
TEST(ChannelsLast, Width4OnAvx2FallsBackToContiguousWithANote) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 256, 20, /*hw=*/28);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), /*epochs=*/1);
  c.optim.batch_size = 128;
  c.model.width = 4;
  c.train.channels_last = true;
  c.eval.enabled = false;
  const std::string cfg = tmp.file("cfg.yaml");
  test::write_bytes(cfg, c.to_yaml());
  const std::vector<std::string> avx2 = {"ONEDNN_MAX_CPU_ISA=AVX2", "ATEN_CPU_CAPABILITY=avx2"};
  const std::string gps = std::string(GPS_BINARY_DIR) + "/gps";
  for (const int nproc : {1, 2}) {
    const std::string name = "w4-" + std::to_string(nproc), log = tmp.file(name + ".txt");
    std::vector<std::string> args = {gps};
    if (nproc > 1) args.insert(args.end(), {"launch", "--nproc", "2", "--"});
    args.insert(args.end(), {"train", "-c", cfg, "train.name=" + name});
    const pid_t pid = test::spawn_with_env(args, avx2, log);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(gps::test::wait_exit_within(pid, std::chrono::seconds(60)), 0) << read_text(log);
    EXPECT_THAT(read_text(log), HasSubstr("train.channels_last=true is not used on this CPU")) << read_text(log);
    EXPECT_THAT(read_text(log), HasSubstr("model.width >= 8"));
    const auto summary = nlohmann::json::parse(read_text(tmp.file("runs/" + name + "/summary.json")));
    EXPECT_FALSE(summary["channels_last"].get<bool>());
  }
}

namespace {

// A method whose step never returns, as a kernel stuck in a loop would.
std::atomic<bool> g_in_stuck_step{false};

class StuckStepImpl : public test::ToySimSiamImpl {
 public:
  using ToySimSiamImpl::ToySimSiamImpl;
  StepOutput training_step(const Views&) override {
    g_in_stuck_step = true;
    for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string name() const override { return "stuck_step"; }
};

// Registered in the death test's child only: other tests walk every
// registered method and would wait for this one forever.
void register_stuck_step() {
  register_method("stuck_step", [](const MethodConfig& c, const ModelConfig& m, int64_t ch) -> Method {
    return std::make_shared<StuckStepImpl>(c, m, ch);
  });
}

}  // namespace

// The first SIGTERM asks for a stop after the step, which never comes; the
// second ends the process at once.
TEST(StopSignal, SecondSigtermEndsARunStuckInAStep) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 40, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.method.pred_hidden_dim = 16;
  c.eval.enabled = false;
  EXPECT_EXIT(
      {
        register_stuck_step();
        c.method.name = "stuck_step";
        install_stop_handlers();
        std::thread signaller([] {
          while (!g_in_stuck_step) std::this_thread::sleep_for(std::chrono::milliseconds(10));
          ::kill(::getpid(), SIGTERM);
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          std::fprintf(stderr, "alive after the first SIGTERM, stop requested: %d\n", int(stop_requested()));
          ::kill(::getpid(), SIGTERM);
          std::this_thread::sleep_for(std::chrono::seconds(30));
          std::fprintf(stderr, "not ended by the second SIGTERM\n");
          std::_Exit(3);
        });
        signaller.detach();
        train(c, "test");
      },
      ::testing::KilledBySignal(SIGTERM), "alive after the first SIGTERM, stop requested: 1");
}

// SIGINT then SIGTERM: the second signal ends it too, whichever kind.
TEST(StopSignal, SigintThenSigtermEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        install_stop_handlers();
        ::kill(::getpid(), SIGINT);
        if (!stop_requested()) std::_Exit(4);
        ::kill(::getpid(), SIGTERM);
        std::this_thread::sleep_for(std::chrono::seconds(30));
        std::_Exit(3);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}
