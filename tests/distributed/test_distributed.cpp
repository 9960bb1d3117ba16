// Data-parallel training on c10d/Gloo (CPU): two ranks on localhost give the
// loss, gradients and batch-norm statistics of one process on the whole
// batch. Collectives are checked in one process with one thread per rank;
// whole trainings run the real `gps launch`.
#include "test_util.h"
#include "test_spawn.h"

#include "gps/distributed/process_group.h"
#include "gps/distributed/sync_batch_norm.h"
#include "gps/methods/losses.h"
#include "gps/neighbors/neighbor_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <thread>


using namespace gps;
using ::testing::HasSubstr;
using gps::test::ScopedEnv;

namespace {

// Runs body(rank) on `world` threads, each a rank of its own group (the
// active group is per thread), and rethrows the first failure.
void run_ranks(int world, const std::function<void(int)>& body) {
  const int port = dist::free_local_port();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        dist::DistEnv env;
        env.rank = r, env.world = world, env.port = port, env.timeout_s = 60;
        dist::set_active_group(dist::Group::connect(env, torch::kCPU));
        body(r);
        dist::set_active_group(nullptr);
      } catch (const std::exception& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) ASSERT_EQ(errors[size_t(r)], "") << "rank " << r;
}

// A small model with batch norm whose loss depends on the whole batch.
struct Net : torch::nn::Module {
  Net() {  // construct on one thread: the seed and the global generator are shared
    torch::manual_seed(7);
    fc1 = register_module("fc1", torch::nn::Linear(5, 6));
    bn = register_module("bn", SyncBatchNorm(6));
    fc2 = register_module("fc2", torch::nn::Linear(6, 4));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(bn(fc1(x)))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  SyncBatchNorm bn{nullptr};
};

// Gradients (then running statistics) of `net` after one step of `loss_fn`
// on rows [lo, hi) of x1, x2; the loss sees gathered embeddings.
std::vector<torch::Tensor> step_state(Net& net, const torch::Tensor& x1, const torch::Tensor& x2, int64_t lo,
                                      int64_t hi,
                                      const std::function<torch::Tensor(torch::Tensor, torch::Tensor)>& loss_fn,
                                      double* loss_out) {
  net.train();
  auto z1 = dist::gather_rows(net.forward(x1.slice(0, lo, hi)));
  auto z2 = dist::gather_rows(net.forward(x2.slice(0, lo, hi)));
  auto loss = loss_fn(z1, z2);
  net.zero_grad();
  loss.backward();
  if (auto* g = dist::active_group()) g->average_gradients(net.parameters());
  *loss_out = loss.item<double>();
  std::vector<torch::Tensor> out;
  for (auto& p : net.parameters()) out.push_back(p.grad().clone());
  out.push_back(net.bn->running_mean.clone());
  out.push_back(net.bn->running_var.clone());
  return out;
}

void expect_two_ranks_equal_one(const std::function<torch::Tensor(torch::Tensor, torch::Tensor)>& loss_fn) {
  torch::manual_seed(3);
  const auto x1 = torch::randn({8, 5}), x2 = torch::randn({8, 5});
  Net single;
  double single_loss = 0;
  const auto want = step_state(single, x1, x2, 0, 8, loss_fn, &single_loss);
  std::vector<std::vector<torch::Tensor>> got(2);
  std::vector<double> losses(2);
  std::vector<std::shared_ptr<Net>> nets = {std::make_shared<Net>(), std::make_shared<Net>()};
  run_ranks(2, [&](int r) {
    got[size_t(r)] = step_state(*nets[size_t(r)], x1, x2, 4 * r, 4 * r + 4, loss_fn, &losses[size_t(r)]);
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_NEAR(losses[size_t(r)], single_loss, 1e-5 * std::abs(single_loss)) << "rank " << r;
    ASSERT_EQ(got[size_t(r)].size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      // Absolute tolerance too: some gradients are 0 in exact arithmetic
      // (VICReg's last bias: the loss ignores a shift of all rows).
      EXPECT_TRUE(torch::allclose(got[size_t(r)][i], want[i], 1e-4, 1e-5))
          << "rank " << r << ", tensor " << i << ": max |diff| "
          << (got[size_t(r)][i] - want[i]).abs().max().item<double>();
  }
}

}  // namespace

TEST(Distributed, EnvironmentDefaultsToOneProcess) {
  ScopedEnv env({{"WORLD_SIZE", nullptr}, {"RANK", nullptr}, {"LOCAL_RANK", nullptr}, {"LOCAL_WORLD_SIZE", nullptr},
                 {"MASTER_ADDR", nullptr}, {"MASTER_PORT", nullptr}, {"GPS_DIST_TIMEOUT_S", nullptr}});
  const auto e = dist::DistEnv::from_env();
  EXPECT_FALSE(e.enabled());
  EXPECT_EQ(e.rank, 0);
  EXPECT_EQ(e.world, 1);
}

TEST(Distributed, EnvironmentIsReadTorchrunStyle) {
  ScopedEnv env({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                 {"MASTER_ADDR", "10.0.0.5"}, {"MASTER_PORT", "29555"}, {"GPS_DIST_TIMEOUT_S", nullptr}});
  const auto e = dist::DistEnv::from_env();
  EXPECT_TRUE(e.enabled());
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.5");
  EXPECT_EQ(e.port, 29555);
  EXPECT_EQ(e.threads_per_process(8), 4);  // two processes on this machine share 8 threads
  EXPECT_EQ(e.threads_per_process(1), 1);
}

TEST(Distributed, BadEnvironmentValuesAreNamed) {
  auto error_with = [](std::initializer_list<std::pair<const char*, const char*>> vars) {
    ScopedEnv env({{"WORLD_SIZE", nullptr}, {"RANK", nullptr}, {"LOCAL_RANK", nullptr},
                   {"LOCAL_WORLD_SIZE", nullptr}, {"MASTER_PORT", nullptr}, {"GPS_DIST_TIMEOUT_S", nullptr}});
    ScopedEnv bad(vars);
    return test::error_of([] { dist::DistEnv::from_env(); });
  };
  EXPECT_THAT(error_with({{"WORLD_SIZE", "two"}, {"RANK", "0"}}), HasSubstr("WORLD_SIZE='two' is not an integer"));
  EXPECT_THAT(error_with({{"WORLD_SIZE", "2"}, {"RANK", "2"}}), HasSubstr("RANK=2 must be below WORLD_SIZE=2"));
  EXPECT_THAT(error_with({{"WORLD_SIZE", "2"}}), HasSubstr("needs RANK"));
  EXPECT_THAT(error_with({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "70000"}}),
              HasSubstr("MASTER_PORT=70000 is out of range"));
  EXPECT_THAT(error_with({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}}),
              HasSubstr("LOCAL_RANK=2 must be below LOCAL_WORLD_SIZE=2"));
  EXPECT_THAT(error_with({{"WORLD_SIZE", "0"}}), HasSubstr("WORLD_SIZE=0 is out of range"));
}

TEST(Distributed, CollectivesAgreeAcrossRanks) {
  run_ranks(2, [](int r) {
    auto* g = dist::active_group();
    auto t = torch::full({3}, double(r + 1));
    g->all_reduce_sum(t);
    GPS_CHECK(torch::equal(t, torch::full({3}, 3.0)), "all_reduce_sum: ", t);
    auto all = g->all_gather(torch::full({2, 1}, double(r)));
    GPS_CHECK(torch::equal(all, torch::tensor({0.0, 0.0, 1.0, 1.0}).view({4, 1})), "all_gather: ", all);
    auto b = torch::full({2}, double(r + 10));
    g->broadcast(b);
    GPS_CHECK(torch::equal(b, torch::full({2}, 10.0)), "broadcast: ", b);
    GPS_CHECK(g->share_string("k", r == 0 ? "from rank 0" : "ignored") == "from rank 0", "share_string");
    NeighborTable t0;
    if (r == 0) t0 = self_table(5);
    broadcast_table(*g, t0);
    GPS_CHECK(t0.size() == 5 && t0.is_self_only(), "broadcast_table");
  });
}

// The core invariant, on a model with batch norm: two ranks with 4 rows each
// have the loss, averaged parameter gradients and running statistics of one
// process with all 8 rows (NT-Xent: negatives from both ranks).
TEST(Distributed, GatheredNtXentAndSyncBatchNormEqualOneProcess) {
  expect_two_ranks_equal_one([](torch::Tensor a, torch::Tensor b) { return nt_xent(a, b, 0.2); });
}

// VICReg's variance and covariance are batch statistics: the same invariant.
TEST(Distributed, GatheredVicregEqualsOneProcess) {
  expect_two_ranks_equal_one([](torch::Tensor a, torch::Tensor b) { return vicreg_loss(a, b).loss; });
}

// ---- whole trainings through `gps launch` ------------------------------------

namespace {

using gps::test::spawn_gps;

int wait_exit(pid_t pid) {
  if (pid < 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_gps(const std::vector<std::string>& args, const std::string& log) { return wait_exit(spawn_gps(args, log)); }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// step -> metrics record of every training step in a run's metrics.jsonl.
std::map<int64_t, nlohmann::json> step_records(const std::string& run_dir) {
  std::map<int64_t, nlohmann::json> out;
  std::ifstream f(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out[j["step"].get<int64_t>()] = j;
  }
  return out;
}

struct LaunchCase {
  const char* method;
  bool gps;
  const char* optim;
  bool refresh = false;  // neighbors.refresh_every = 1: rank 0 rebuilds the table, the others receive it
  bool channels_last = false;  // train.channels_last: channels-last weights through broadcast_module
  bool store = false;  // data.name=store, quasi-random order: every rank reads its rows from one image store
};

class DistributedTraining : public ::testing::TestWithParam<LaunchCase> {};

}  // namespace

// The check: 2 CPU processes (Gloo, localhost) with 8 rows each
// follow the loss trajectory of 1 process with the global batch of 16: same
// loss, loss components, z_std and probe metrics at every step, in float64
// to 1e-9 (only the summation order differs), and the same final loss.
TEST_P(DistributedTraining, TwoProcessesMatchOneWithTheDoubledBatch) {
  const LaunchCase& p = GetParam();
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 64, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), /*epochs=*/2);
  c.method.name = p.method;
  c.optim.name = p.optim;
  c.optim.batch_size = 16;  // global: 8 rows per rank
  // float64: the two runs differ only in summation order, which moves a
  // float32 loss by 1e-4 within 8 steps on some CPUs (AVX2 kernels) and a
  // float64 one by less than 1e-12 (test::kSameTrajectoryRelTol). A small lr
  // keeps this width-2 network out of its chaotic regime, where any rounding
  // grows quickly.
  c.train.precision = "fp64";
  c.optim.lr = 0.01;
  c.gps = p.gps;
  if (p.refresh) c.neighbors.refresh_every = 1;
  if (p.channels_last) {
    c.train.channels_last = true;
    c.model.width = 8;  // channels-last at width 2 or 4 aborts in LibTorch's AVX2 CPU kernels (test_device.cpp)
  }
  c.neighbors.rules.k = 3;
  c.eval.enabled = false;
  c.method.queue_size = 32;  // NNCLR: two global batches
  if (p.store) {
    ASSERT_EQ(run_gps({"data", "pack", "data.root=" + tmp.file("fm"), "--splits", "train", "--chunk-rows", "16", "--out",
                       tmp.file("store")},
                      tmp.file("pack.txt")),
              0)
        << read_text(tmp.file("pack.txt"));
    c.data.name = "store";
    c.data.root = tmp.file("store");
    c.data.order = "quasi-random";
    c.data.order_window = 2;
  }
  if (std::string(p.method) == "dino" || std::string(p.method) == "swav") {  // multi-crop: 2 global + 2 local views
    c.augment.preset = "strong";
    c.augment.local_crops = 2;
    c.method.num_prototypes = 64;
    c.method.epoch_queue_starts = 1;  // swav: the queue (32 rows, gathered over ranks) joins the codes in epoch 1
  }
  const std::string cfg_path = tmp.file("cfg.yaml");
  test::write_bytes(cfg_path, c.to_yaml());
  const std::string log = tmp.file("log.txt");

  ASSERT_EQ(run_gps({"train", "-c", cfg_path, "train.name=one"}, log), 0) << read_text(log);
  ASSERT_EQ(run_gps({"launch", "--nproc", "2", "--", "train", "-c", cfg_path, "train.name=two"}, log), 0)
      << read_text(log);

  const auto one = step_records(tmp.file("runs/one")), two = step_records(tmp.file("runs/two"));
  ASSERT_EQ(one.size(), 8u);  // 64 images / 16 = 4 steps per epoch, 2 epochs
  ASSERT_EQ(two.size(), one.size()) << read_text(log);
  for (const auto& [step, a] : one) {
    const auto& b = two.at(step);
    for (const auto& [key, value] : a.items()) {
      if (key == "images_per_s" || key == "elapsed_s" || key == "data_wait_s" || !value.is_number()) continue;  // timings
      ASSERT_TRUE(b.contains(key)) << key;
      const double x = value.get<double>(), y = b[key].get<double>();
      EXPECT_NEAR(y, x, test::kSameTrajectoryRelTol * std::max(1.0, std::abs(x))) << key << " at step " << step;
    }
  }
  if (p.refresh) EXPECT_THAT(read_text(tmp.file("runs/two/metrics.jsonl")), HasSubstr("\"table_refresh\""));
  // Rank 0 alone wrote: one run directory per command, with its checkpoint.
  int dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.file("runs"))) dirs += e.is_directory() && e.path().filename() != "cache";
  EXPECT_EQ(dirs, 2);
  EXPECT_TRUE(std::filesystem::exists(tmp.file("runs/two/checkpoint.pt")));
  EXPECT_TRUE(std::filesystem::exists(tmp.file("runs/two/summary.json")));
}

INSTANTIATE_TEST_SUITE_P(Methods, DistributedTraining,
                         ::testing::Values(LaunchCase{"simclr", false, "sgd"}, LaunchCase{"simclr", true, "sgd"},
                                           LaunchCase{"vicreg", false, "lars"}, LaunchCase{"vicreg", true, "lars"},
                                           LaunchCase{"barlow_twins", true, "lars"}, LaunchCase{"byol", true, "lars"},
                                           LaunchCase{"byol", true, "lars", /*refresh=*/true},
                                           LaunchCase{"nnclr", true, "lars"}, LaunchCase{"mocov3", true, "lars"},
                                           LaunchCase{"simsiam", true, "sgd"}, LaunchCase{"dino", true, "lars"},
                                           LaunchCase{"swav", true, "lars"},
                                           LaunchCase{"simclr", true, "lars", false, /*channels_last=*/true},
                                           LaunchCase{"simclr", true, "sgd", false, false, /*store=*/true}),
                         [](const auto& info) {
                           return std::string(info.param.method) + (info.param.gps ? "_gps" : "_plain") +
                                  (info.param.refresh ? "_refresh" : "") +
                                  (info.param.channels_last ? "_channels_last" : "") + (info.param.store ? "_store" : "");
                         });

TEST(DistributedTraining, LaunchFailsClearlyAndStopsTheOtherRanks) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 64, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 1);
  c.eval.enabled = false;
  const std::string cfg_path = tmp.file("cfg.yaml");
  test::write_bytes(cfg_path, c.to_yaml());
  const std::string log = tmp.file("log.txt");
  // 3 processes cannot share a global batch of 20.
  EXPECT_NE(run_gps({"launch", "--nproc", "3", "--", "train", "-c", cfg_path}, log), 0);
  EXPECT_THAT(read_text(log), HasSubstr("optim.batch_size = 20 is the global batch and must divide evenly among the 3 processes"));
  EXPECT_NE(run_gps({"launch", "--nproc", "2", "--", "neighbors", "-c", cfg_path}, log), 0);
  EXPECT_THAT(read_text(log), HasSubstr("only `train` runs in several processes"));
}

TEST(DistributedTraining, OtherCommandsRefuseSeveralProcesses) {
  test::TempDir tmp;
  const std::string log = tmp.file("log.txt");
  ScopedEnv env({{"WORLD_SIZE", "2"}, {"RANK", "0"}});
  EXPECT_EQ(run_gps({"eval", "--run", tmp.file("nowhere")}, log), 2);
  EXPECT_THAT(read_text(log), HasSubstr("gps eval runs in one process, but WORLD_SIZE=2 is set"));
}

// Ctrl-C reaches the launcher, which forwards it once to every rank: they
// agree on the step to stop after, rank 0 writes checkpoint and summary,
// and the launcher exits with the ranks' 130.
TEST(DistributedTraining, InterruptStopsEveryRankAtTheSameStep) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 64, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), /*epochs=*/500);
  c.optim.batch_size = 16;
  c.eval.enabled = false;
  c.train.name = "run";
  const std::string cfg_path = tmp.file("cfg.yaml");
  test::write_bytes(cfg_path, c.to_yaml());
  const std::string log = tmp.file("log.txt");
  const pid_t pid = spawn_gps({"launch", "--nproc", "2", "--", "train", "-c", cfg_path}, log);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (step_records(tmp.file("runs/run")).size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130) << read_text(log);
  const auto summary = nlohmann::json::parse(read_text(tmp.file("runs/run/summary.json")));
  EXPECT_TRUE(summary["interrupted"].get<bool>());
  EXPECT_LT(summary["steps"].get<int64_t>(), 2000);
  EXPECT_EQ(int64_t(step_records(tmp.file("runs/run")).size()), summary["steps"].get<int64_t>());
  EXPECT_TRUE(std::filesystem::exists(tmp.file("runs/run/checkpoint.pt")));
}

// A two-process run interrupted and continued with `gps launch -- train
// --resume` follows the uninterrupted one-process run: the ranks reload rank
// 0's checkpoint and metrics.jsonl holds each step once.
TEST(DistributedTraining, InterruptedRunResumesOnTheOneProcessTrajectory) {
  test::TempDir tmp;
  test::write_tiny_mnist(tmp.file("fm"), 64, 20);
  Config c = test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), /*epochs=*/6);
  c.optim.batch_size = 16;
  c.train.precision = "fp64";  // see TwoProcessesMatchOneWithTheDoubledBatch
  c.optim.lr = 0.01;
  c.eval.enabled = false;
  const std::string cfg_path = tmp.file("cfg.yaml");
  test::write_bytes(cfg_path, c.to_yaml());
  const std::string log = tmp.file("log.txt");
  ASSERT_EQ(run_gps({"train", "-c", cfg_path, "train.name=one"}, log), 0) << read_text(log);

  const pid_t pid = spawn_gps({"launch", "--nproc", "2", "--", "train", "-c", cfg_path, "train.name=two"}, log);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (step_records(tmp.file("runs/two")).size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGINT);
  ASSERT_EQ(wait_exit(pid), 130) << read_text(log);
  const int64_t stopped = nlohmann::json::parse(read_text(tmp.file("runs/two/summary.json")))["steps"].get<int64_t>();
  ASSERT_EQ(run_gps({"launch", "--nproc", "2", "--", "train", "--resume", tmp.file("runs/two")}, log), 0)
      << read_text(log);

  const auto one = step_records(tmp.file("runs/one")), two = step_records(tmp.file("runs/two"));
  ASSERT_EQ(one.size(), 24u);
  ASSERT_EQ(two.size(), one.size()) << "stopped after step " << stopped;
  for (const auto& [step, a] : one)
    EXPECT_NEAR(two.at(step)["loss"].get<double>(), a["loss"].get<double>(),
                test::kSameTrajectoryRelTol * a["loss"].get<double>())
        << "step " << step << " (interrupted after step " << stopped << ")";
}
