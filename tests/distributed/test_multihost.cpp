// Several hosts on one machine: each rank of a training in its own network
// namespace, the namespaces joined by veth links on a bridge, MASTER_ADDR a
// namespace's address and GLOO_SOCKET_IFNAME its veth (as on real hosts,
// sharing a filesystem). Three ranks must follow the trajectory of one
// process with the global batch; a rank killed or cut off mid-epoch must make
// every other rank stop within GPS_DIST_TIMEOUT_S, naming the lost rank and
// the step, with the last checkpoint intact and --resume on the
// uninterrupted trajectory. Needs root and iproute2; skips with the reason
// where namespaces cannot be made.
#include "test_util.h"
#include "test_spawn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using gps::test::TempDir;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// n network namespaces, host i at 10.213.<net>.<i+1>/24 on veth h<i>, whose
// peer is on a bridge in this namespace. Removed on destruction.
class Hosts {
 public:
  explicit Hosts(int n) : n_(n) {
    const int pid = int(::getpid());
    // A letter per Hosts of this process: a --gtest_repeat makes new links
    // while the kernel may still be removing the last ones.
    static int made_before = 0;
    tag_ = "g" + std::to_string(pid % 100000) + char('a' + made_before++ % 26);
    net_ = std::to_string(20 + pid % 200);
    if (::geteuid() != 0) {
      why_ = "network namespaces need root";
      return;
    }
    if (sh("ip -V") != 0) {
      why_ = "iproute2 (ip) is not installed";
      return;
    }
    if (sh("ip link add " + bridge() + " type bridge") != 0 || sh("ip link set " + bridge() + " up") != 0) {
      why_ = "cannot create a bridge (ip link add type bridge)";
      return;
    }
    for (int i = 0; i < n_; ++i) {
      const std::string ns = name(i), v = veth(i), peer = tag_ + "p" + std::to_string(i);
      const bool ok = sh("ip netns add " + ns) == 0 && sh("ip link add " + v + " type veth peer name " + peer) == 0 &&
                      sh("ip link set " + v + " netns " + ns) == 0 && sh("ip link set " + peer + " master " + bridge()) == 0 &&
                      sh("ip link set " + peer + " up") == 0 &&
                      sh("ip netns exec " + ns + " ip addr add " + address(i) + "/24 dev " + v) == 0 &&
                      sh("ip netns exec " + ns + " ip link set " + v + " up") == 0 &&
                      sh("ip netns exec " + ns + " ip link set lo up") == 0;
      made_ = i + 1;
      if (!ok) {
        why_ = "cannot create network namespace " + ns + " with a veth link";
        return;
      }
    }
    // The links take a moment to come up: wait until host 0 answers host n-1.
    for (int tries = 0; tries < 50; ++tries) {
      if (sh("ip netns exec " + name(n_ - 1) + " ping -c 1 -W 1 " + address(0)) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (sh("command -v ping") != 0) return;  // no ping to check with: trust the links
    why_ = "the veth links do not carry traffic";
  }
  ~Hosts() {
    for (int i = 0; i < made_; ++i) {
      sh("ip link del " + tag_ + "p" + std::to_string(i));  // both ends of the veth
      sh("ip netns del " + name(i));
    }
    sh("ip link del " + bridge());
  }
  const std::string& why() const { return why_; }
  std::string name(int i) const { return tag_ + "n" + std::to_string(i); }
  std::string veth(int i) const { return tag_ + "h" + std::to_string(i); }
  std::string address(int i) const { return "10.213." + net_ + "." + std::to_string(i + 1); }
  std::string bridge() const { return tag_ + "br"; }
  // Cuts host i off: its link goes down.
  void cut(int i) const { sh("ip netns exec " + name(i) + " ip link set " + veth(i) + " down"); }

 private:
  int n_ = 0, made_ = 0;
  std::string tag_, net_, why_;
};

// Rank `rank` of `world` in host `rank`'s namespace: gps train `args`.
pid_t start_rank(const Hosts& hosts, int rank, int world, int port, const std::vector<std::string>& args,
                 const std::string& log, int timeout_s) {
  std::vector<std::string> argv = {"ip", "netns", "exec", hosts.name(rank), std::string(GPS_BINARY_DIR) + "/gps"};
  argv.insert(argv.end(), args.begin(), args.end());
  return gps::test::spawn_with_env(argv,
                                   {"WORLD_SIZE=" + std::to_string(world), "RANK=" + std::to_string(rank),
                                    "LOCAL_RANK=0", "LOCAL_WORLD_SIZE=1", "MASTER_ADDR=" + hosts.address(0),
                                    "MASTER_PORT=" + std::to_string(port), "GLOO_SOCKET_IFNAME=" + hosts.veth(rank),
                                    "GPS_DIST_TIMEOUT_S=" + std::to_string(timeout_s)},
                                   log);
}

// step -> training record of a run's metrics.jsonl (the last one of a step).
std::map<int64_t, nlohmann::json> step_records(const std::string& run_dir) {
  std::map<int64_t, nlohmann::json> out;
  std::ifstream f(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("loss")) out[j["step"].get<int64_t>()] = j;
  }
  return out;
}

void expect_same_trajectory(const std::map<int64_t, nlohmann::json>& one, const std::map<int64_t, nlohmann::json>& two) {
  ASSERT_EQ(two.size(), one.size());
  for (const auto& [step, a] : one) {
    const auto& b = two.at(step);
    for (const auto& [key, value] : a.items()) {
      if (key == "images_per_s" || key == "elapsed_s" || key == "data_wait_s" || !value.is_number()) continue;
      ASSERT_TRUE(b.contains(key)) << key;
      const double x = value.get<double>(), y = b[key].get<double>();
      EXPECT_NEAR(y, x, gps::test::kSameTrajectoryRelTol * std::max(1.0, std::abs(x))) << key << " at step " << step;
    }
  }
}

constexpr int kWorld = 3;

class MultiHost : public ::testing::Test {
 protected:
  void SetUp() override {
    gps::test::write_tiny_mnist(tmp.file("fm"), 96, 20);
    gps::Config c = gps::test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), /*epochs=*/3);
    c.optim.batch_size = 24;  // global: 8 rows per rank
    c.train.precision = "fp64";  // see test_distributed.cpp: summation order alone moves a float32 loss by 1e-4
    c.optim.lr = 0.01;
    c.neighbors.rules.k = 3;
    c.eval.enabled = false;
    c.train.checkpoint_every_steps = 2;
    cfg = tmp.file("cfg.yaml");
    gps::test::write_bytes(cfg, c.to_yaml());
  }
  // The ranks of one training (rank r logging to log<r>.txt); their exit codes.
  std::vector<pid_t> start(const Hosts& hosts, const std::vector<std::string>& args, int port, int timeout_s = 60) {
    std::vector<pid_t> pids;
    for (int r = 0; r < kWorld; ++r) pids.push_back(start_rank(hosts, r, kWorld, port, args, log(r), timeout_s));
    return pids;
  }
  std::string log(int r) { return tmp.file("log" + std::to_string(r) + ".txt"); }
  std::string logs() {
    std::string s;
    for (int r = 0; r < kWorld; ++r) s += "--- rank " + std::to_string(r) + ":\n" + read_text(log(r));
    return s;
  }
  // Waits until rank 0 has logged `step` (the run trains on), or fails.
  bool reached(const std::string& run_dir, int64_t step) {
    for (int polls = 0; polls < 60000; ++polls) {
      if (step_records(run_dir).count(step)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  TempDir tmp;
  std::string cfg;
};

// One rank in each of three namespaces = one process with the global batch.
TEST_F(MultiHost, ThreeHostsMatchOneProcessWithTheGlobalBatch) {
  Hosts hosts(kWorld);
  if (!hosts.why().empty()) GTEST_SKIP() << hosts.why();
  const std::string one_log = tmp.file("one.txt");
  ASSERT_EQ(gps::test::wait_exit_within(gps::test::spawn_gps({"train", "-c", cfg, "train.name=one"}, one_log)), 0)
      << read_text(one_log);
  const auto pids = start(hosts, {"train", "-c", cfg, "train.name=three"}, 29611);
  for (pid_t p : pids) ASSERT_EQ(gps::test::wait_exit_within(p), 0) << logs();
  const auto one = step_records(tmp.file("runs/one"));
  ASSERT_EQ(one.size(), 12u);  // 96 / 24 = 4 steps per epoch, 3 epochs
  expect_same_trajectory(one, step_records(tmp.file("runs/three")));
}

// A lost rank (SIGKILL, or its link cut) stops every other rank, each naming
// rank 1 and the step; the checkpoint left is intact and the run resumes onto
// the uninterrupted trajectory.
TEST_F(MultiHost, ALostRankStopsTheOthersNamingItAndTheRunResumes) {
  Hosts hosts(kWorld);
  if (!hosts.why().empty()) GTEST_SKIP() << hosts.why();
  auto pids = start(hosts, {"train", "-c", cfg, "train.name=whole"}, 29612);
  for (pid_t p : pids) ASSERT_EQ(gps::test::wait_exit_within(p), 0) << logs();
  const auto whole = step_records(tmp.file("runs/whole"));
  ASSERT_EQ(whole.size(), 12u);

  struct Fault {
    const char* what;
    int64_t at_step;
    int timeout_s;
  };
  const std::string run = tmp.file("runs/faulty");
  for (const Fault f : {Fault{"sigkill", 3, 60}, Fault{"cut", 7, 8}}) {
    SCOPED_TRACE(f.what);
    for (int r = 0; r < kWorld; ++r) std::filesystem::remove(log(r));
    const std::vector<std::string> args =
        f.at_step == 3 ? std::vector<std::string>{"train", "-c", cfg, "train.name=faulty"}
                       : std::vector<std::string>{"train", "-c", cfg, "--resume", run};
    pids = start(hosts, args, f.at_step == 3 ? 29613 : 29614, f.timeout_s);
    ASSERT_TRUE(reached(run, f.at_step)) << logs();
    const auto t0 = Clock::now();
    if (std::string(f.what) == "sigkill")
      ::kill(pids[1], SIGKILL);
    else
      hosts.cut(1);
    // Every other rank ends, non-zero, within the timeout (plus the few
    // seconds the survivors wait for each other's word), naming rank 1.
    for (int r : {0, 2}) {
      const int code = gps::test::wait_exit_within(pids[size_t(r)], std::chrono::seconds(f.timeout_s + 30));
      EXPECT_NE(code, -1) << "rank " << r << " hangs\n" << logs();
      EXPECT_NE(code, 0) << logs();
      EXPECT_THAT(read_text(log(r)), HasSubstr("lost rank 1 of 3 at step")) << logs();
    }
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(f.timeout_s + 30));
    const int cut_code = gps::test::wait_exit_within(pids[1], std::chrono::seconds(f.timeout_s + 30));
    EXPECT_NE(cut_code, 0);
    if (std::string(f.what) == "cut") {
      EXPECT_THAT(read_text(log(1)), HasSubstr("lost rank 0")) << "the cut-off rank names the store's host\n" << logs();
      sh("ip netns exec " + hosts.name(1) + " ip link set " + hosts.veth(1) + " up");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_TRUE(std::filesystem::exists(run + "/LATEST"));
  }
  // Resume on all three hosts: the trajectory of the run that was never interrupted.
  for (int r = 0; r < kWorld; ++r) std::filesystem::remove(log(r));
  pids = start(hosts, {"train", "-c", cfg, "--resume", run}, 29615);
  for (pid_t p : pids) ASSERT_EQ(gps::test::wait_exit_within(p), 0) << logs();
  expect_same_trajectory(whole, step_records(run));
}

}  // namespace
