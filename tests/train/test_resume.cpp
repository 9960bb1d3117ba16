// Run lifecycle: a training killed with SIGKILL at random points and resumed
// each time ends bit-identical to an uninterrupted run; changed configs are
// refused; non-finite losses stop with a message or roll back.
#include "test_util.h"
#include "test_spawn.h"

#include "gps/io/fs.h"
#include "gps/methods/method.h"
#include "gps/train/checkpoint.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <random>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>


namespace {

using gps::test::TempDir;
using ::testing::HasSubstr;

// Starts `gps train -c config --resume auto [extra]` with output to `log`; returns the pid.
pid_t spawn_train(const std::string& config, const std::string& log, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"train", "-c", config, "--resume", "auto"};
  args.insert(args.end(), extra.begin(), extra.end());
  const pid_t pid = gps::test::spawn_gps(args, log);
  EXPECT_GE(pid, 0) << "cannot start " << GPS_BINARY_DIR << "/gps";
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// step -> loss of every training record in metrics.jsonl; fails on a
// duplicate step unless `rollbacks` (a NaN rollback trains steps again: the
// last record of a step counts).
std::map<int64_t, double> losses(const std::string& run_dir, bool rollbacks = false) {
  std::map<int64_t, double> out;
  std::ifstream f(run_dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    const auto j = nlohmann::json::parse(line);
    if (!j.contains("loss")) continue;
    const int64_t s = j["step"].get<int64_t>();
    if (!rollbacks) EXPECT_EQ(out.count(s), 0u) << "step " << s << " logged twice in " << run_dir;
    out[s] = j["loss"].get<double>();
  }
  return out;
}

// Every parameter and buffer of the final checkpoints, compared bit for bit.
void expect_same_weights(const gps::Config& c, const std::string& run_a, const std::string& run_b) {
  auto a = gps::make_method(c.method, c.model, 1), b = gps::make_method(c.method, c.model, 1);
  gps::load_method_weights(run_a + "/checkpoint.pt", *a);
  gps::load_method_weights(run_b + "/checkpoint.pt", *b);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << "parameter " << item.key();
  auto ba = a->named_buffers(), bb = b->named_buffers();
  ASSERT_EQ(ba.size(), bb.size());
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << "buffer " << item.key();
}

struct ResumeCase {
  std::string method, optim;
  bool gps;
  int64_t refresh_every;
  bool nan_rollback;  // starts at lr 100: rollbacks (lr x 0.1 each) until the loss stays finite
};

// The kill points' seed: GPS_KILL_SEED when set (to replay a failure), else
// drawn; printed either way.
uint64_t kill_seed() {
  static const uint64_t seed = [] {
    const char* v = std::getenv("GPS_KILL_SEED");
    const uint64_t s = v != nullptr && *v != '\0' ? std::stoull(v) : std::random_device{}();
    std::printf("[kills] GPS_KILL_SEED=%llu (set it to replay these kill points)\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

// 4 kills in each of 9 cases: 36 SIGKILLs at seeded steps over the nine
// methods, GPS and plain, with a table refresh (BYOL) and the NaN rollback
// path (VICReg) among them. Each case: an uninterrupted reference, then the
// same run killed at each drawn step (watched through its metrics, one record
// per step) and resumed; the final weights and every logged loss must be
// bit-identical to the reference.
class SigkillResume : public ::testing::TestWithParam<ResumeCase> {};

TEST_P(SigkillResume, FinalWeightsEqualAnUninterruptedRun) {
  TempDir tmp;
  gps::test::write_tiny_mnist(tmp.file("fm"), 200, 20);
  const ResumeCase& rc = GetParam();
  gps::Config c = gps::test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 6);
  c.method.name = rc.method;
  c.optim.name = rc.optim;
  c.gps = rc.gps;
  c.method.queue_size = 40;
  if (rc.method == "dino" || rc.method == "swav") {  // multi-crop: 2 global + 2 local views; prototypes frozen in epoch 0
    c.augment.preset = "strong";
    c.augment.local_crops = 2;
    c.method.num_prototypes = 64;
    c.method.epoch_queue_starts = 2;  // swav: the queue (40 rows) joins the codes from epoch 2
  }
  c.neighbors.rules.k = rc.gps ? 3 : 1;
  c.neighbors.refresh_every = rc.refresh_every;
  c.eval.enabled = false;
  c.train.checkpoint_every_steps = 3;
  if (rc.nan_rollback) {
    c.optim.lr = 100;  // the schema's largest
    c.optim.warmup_epochs = 0;
    c.train.nan_policy = "rollback";
    c.train.nan_lr_factor = 0.1;
    c.train.nan_max_rollbacks = 20;
  }

  // The uninterrupted reference.
  c.train.name = "reference";
  gps::test::write_bytes(tmp.file("ref.yaml"), c.to_yaml());
  ASSERT_EQ(wait_exit(spawn_train(tmp.file("ref.yaml"), tmp.file("ref.log"))), 0) << read_file(tmp.file("ref.log"));
  if (rc.nan_rollback)
    ASSERT_THAT(read_file(tmp.file("runs/reference/metrics.jsonl")), HasSubstr("nan_rollback"));

  c.train.name = "killed";
  gps::test::write_bytes(tmp.file("killed.yaml"), c.to_yaml());
  const uint64_t seed = kill_seed() + std::hash<std::string>{}(rc.method);
  std::mt19937_64 rng(seed);
  std::vector<int64_t> targets;
  for (int i = 0; i < 4; ++i) targets.push_back(std::uniform_int_distribution<int64_t>(2, 57)(rng));
  std::sort(targets.begin(), targets.end());
  std::string points;
  for (int64_t t : targets) points += " " + std::to_string(t);
  SCOPED_TRACE("kill steps" + points + " (GPS_KILL_SEED=" + std::to_string(kill_seed()) + ")");
  int kills = 0;
  for (int64_t target : targets) {
    const pid_t pid = spawn_train(tmp.file("killed.yaml"), tmp.file("killed.log"));
    bool exited = false;
    for (int polls = 0; polls < 60000; ++polls) {
      std::ifstream f(tmp.file("runs/killed/metrics.jsonl"));
      const std::string text((std::istreambuf_iterator<char>(f)), {});
      const std::string key = "\"step\":" + std::to_string(target);
      if (text.find(key + ",") != std::string::npos || text.find(key + "}") != std::string::npos) break;
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_FALSE(exited) << "training ended before step " << target << ": " << read_file(tmp.file("killed.log"));
    kills += kill(pid, SIGKILL) == 0;
    wait_exit(pid);
  }
  EXPECT_EQ(kills, 4);
  ASSERT_EQ(wait_exit(spawn_train(tmp.file("killed.yaml"), tmp.file("killed.log"))), 0)
      << read_file(tmp.file("killed.log"));

  const std::string ref = tmp.file("runs/reference"), killed = tmp.file("runs/killed");
  expect_same_weights(c, ref, killed);
  const auto la = losses(ref, rc.nan_rollback), lb = losses(killed, rc.nan_rollback);
  EXPECT_EQ(la.size(), size_t(60));
  EXPECT_EQ(la, lb) << "loss trajectories differ";
  EXPECT_THAT(read_file(tmp.file("killed.log")), HasSubstr("from " + tmp.file("runs/killed/checkpoints/step-")))
      << "no resume started from a periodic checkpoint";
}

INSTANTIATE_TEST_SUITE_P(Methods, SigkillResume,
                         ::testing::Values(ResumeCase{"simclr", "sgd", true, 0, false},
                                           ResumeCase{"byol", "lars", true, 2, false},
                                           ResumeCase{"nnclr", "sgd", true, 0, false},
                                           ResumeCase{"barlow_twins", "sgd", false, 0, false},
                                           ResumeCase{"vicreg", "sgd", true, 0, true},
                                           ResumeCase{"mocov3", "lars", true, 0, false},
                                           ResumeCase{"simsiam", "sgd", true, 0, false},
                                           ResumeCase{"dino", "lars", true, 0, false},
                                           ResumeCase{"swav", "lars", true, 0, false}),
                         [](const auto& info) { return info.param.method; });

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override { gps::test::write_tiny_mnist(tmp.file("fm"), 60, 20); }
  gps::Config config() {
    gps::Config c = gps::test::tiny_train_config(tmp.file("fm"), tmp.file("runs"), 2);
    c.optim.batch_size = 10;
    c.eval.enabled = false;
    c.train.name = "run";
    return c;
  }
  // A run of `c` stopped after its first step (checkpoint.pt written), and
  // the options that resume it.
  gps::ResumeOptions stopped_run(const gps::Config& c) {
    gps::request_stop(true);
    const auto first = gps::train(c, "test");
    gps::request_stop(false);
    EXPECT_TRUE(first.interrupted);
    gps::ResumeOptions ro;
    ro.run_dir = first.run_dir;
    return ro;
  }
  TempDir tmp;
};

// The bytes of the files a resume could touch.
std::map<std::string, std::string> run_files(const std::string& run_dir) {
  std::map<std::string, std::string> out;
  for (const char* f : {"config.yaml", "metrics.jsonl", "command.txt", "checkpoint.pt", "LATEST"})
    out[f] = gps::test::read_bytes(run_dir + "/" + f);
  return out;
}

// Issue 47: a checkpoint records the images it trained on; --resume onto
// other images (a store repacked, a folder changed) is refused before
// anything is written, naming both, and resumes once the data is back.
TEST_F(Lifecycle, ResumeRefusesOtherImagesAndLeavesTheRunAsItWas) {
  const gps::Config c = config();
  const gps::ResumeOptions ro = stopped_run(c);
  const auto before = run_files(ro.run_dir);
  gps::test::write_tiny_mnist(tmp.file("fm"), 70, 20);  // other images at the same data.root
  const std::string err = gps::test::error_of([&] { gps::train(c, "test", ro); });
  EXPECT_THAT(err, HasSubstr("trained on other images")) << err;
  EXPECT_THAT(err, HasSubstr(";n=60")) << err;
  EXPECT_THAT(err, HasSubstr(";n=70")) << err;
  EXPECT_THAT(err, HasSubstr("start a new run")) << err;
  EXPECT_EQ(run_files(ro.run_dir), before) << "a refused resume changed the run directory";
  gps::test::write_tiny_mnist(tmp.file("fm"), 60, 20);  // the same images again
  EXPECT_FALSE(gps::train(c, "test", ro).interrupted);
}

// Issue 47: `--resume RUN method.name=byol --force` cannot load the
// simclr checkpoint; the error says so without a C++ backtrace, config.yaml
// still names simclr, and the plain resume then works.
TEST_F(Lifecycle, AFailedForcedResumeLeavesConfigYamlAsItWas) {
  const gps::Config c = config();
  gps::ResumeOptions ro = stopped_run(c);
  const auto before = run_files(ro.run_dir);
  gps::Config other = c;
  other.method.name = "byol";
  ro.force = true;
  const std::string err = gps::test::error_of([&] { gps::train(other, "test", ro); });
  EXPECT_THAT(err, HasSubstr("cannot load checkpoint")) << err;
  EXPECT_THAT(err, ::testing::Not(HasSubstr("frame #"))) << "a C++ backtrace in the message";
  EXPECT_EQ(before.at("config.yaml"), gps::test::read_bytes(ro.run_dir + "/config.yaml"));
  ro.force = false;
  EXPECT_FALSE(gps::train(c, "test", ro).interrupted);
}

TEST_F(Lifecycle, InterruptedLibraryRunResumesToTheSameWeights) {
  gps::Config c = config();
  const auto ref = gps::train(c, "test");
  c.train.name = "stopped";
  gps::request_stop(true);  // stops after the first step
  const auto first = gps::train(c, "test");
  gps::request_stop(false);
  ASSERT_TRUE(first.interrupted);
  EXPECT_EQ(gps::latest_checkpoint(first.run_dir), first.run_dir + "/checkpoint.pt");
  gps::ResumeOptions ro;
  ro.run_dir = first.run_dir;
  const auto done = gps::train(c, "test", ro);
  EXPECT_FALSE(done.interrupted);
  EXPECT_EQ(done.steps, ref.steps);
  expect_same_weights(c, ref.run_dir, done.run_dir);
}

TEST_F(Lifecycle, ChangedTrainingKeysAreRefusedUnlessForced) {
  gps::Config c = config();
  gps::ResumeOptions ro = stopped_run(c);
  c.optim.lr = 0.01;
  c.train.log_every = 5;  // not a training key
  const std::string msg = gps::test::error_of([&] { gps::train(c, "test", ro); });
  EXPECT_THAT(msg, HasSubstr("optim.lr"));
  EXPECT_THAT(msg, HasSubstr("--force"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("train.log_every")));
  ro.force = true;
  EXPECT_FALSE(gps::train(c, "test", ro).interrupted);
}

// Keys that do not change what a run computes (the schema's training flag)
// may differ on resume: caches, devices, threads, logging, evaluation.
TEST_F(Lifecycle, RunOnlyKeysMayChangeOnResume) {
  gps::Config c = config();
  const gps::ResumeOptions ro = stopped_run(c);
  c.data.cache_dir = tmp.file("other-cache");
  c.prior.cache = false;
  c.prior.device = "cpu";
  c.neighbors.search.device = "cpu";
  c.train.deterministic = true;
  c.train.prefetch = "true";
  c.eval.knn_k = 3;
  EXPECT_EQ(gps::changed_training_keys(gps::load_config((std::filesystem::path(ro.run_dir) / "config.yaml").string(), {}), c),
            std::vector<std::string>{});
  const auto done = gps::train(c, "test", ro);
  EXPECT_FALSE(done.interrupted);
  // The schema marks exactly these kinds of keys as free.
  for (const auto& info : gps::config_schema()) {
    const bool run_only = info.key.rfind("eval.", 0) == 0 || info.key == "data.cache_dir" || info.key == "prior.cache" ||
                          info.key == "neighbors.cache" || info.key.find("device") != std::string::npos ||
                          (info.key.rfind("train.", 0) == 0 && info.key != "train.seed" && info.key != "train.precision" &&
                           info.key != "train.channels_last" && info.key != "train.tf32" &&
                           info.key != "train.online_probe");
    EXPECT_EQ(info.training, !run_only) << info.key;
  }
}

// One writer per run directory: a second gps on a run in use refuses at
// once naming the holder's pid, and nothing of the run changes.
TEST_F(Lifecycle, ARunInUseRefusesASecondWriter) {
  gps::Config c = config();
  gps::request_stop(true);
  const auto first = gps::train(c, "test");
  gps::request_stop(false);
  const std::string cfg_path = tmp.file("cfg.yaml");
  gps::test::write_bytes(cfg_path, c.to_yaml());
  const std::string metrics_before = read_file(first.run_dir + "/metrics.jsonl");
  {
    const gps::DirLock held(first.run_dir, "run directory");  // as a running gps would
    const auto r = gps::test::run_gps("train -c " + cfg_path + " --resume " + first.run_dir);
    EXPECT_NE(r.code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("is in use by another gps process (pid " + std::to_string(::getpid()) + ")"));
    EXPECT_EQ(read_file(first.run_dir + "/metrics.jsonl"), metrics_before) << "nothing was written";
  }
  // Released (as at a crash): the resume goes through.
  const auto r = gps::test::run_gps("train -c " + cfg_path + " --resume " + first.run_dir);
  EXPECT_EQ(r.code, 0) << r.output;
}

// A full disk while a checkpoint is written (RLIMIT_FSIZE below its size):
// the error names the file, the previous checkpoint and LATEST stay valid,
// and the run then resumes to the uninterrupted weights.
TEST_F(Lifecycle, AFullDiskAtACheckpointKeepsThePreviousOne) {
  gps::Config c = config();
  c.train.checkpoint_every_steps = 1;
  const auto ref = gps::train(c, "test");
  c.train.name = "stopped";
  gps::request_stop(true);
  const auto first = gps::train(c, "test");
  gps::request_stop(false);
  const std::string latest = gps::latest_checkpoint(first.run_dir);
  const auto size = std::filesystem::file_size(latest);
  const std::string cfg_path = tmp.file("cfg.yaml");
  gps::test::write_bytes(cfg_path, c.to_yaml());
  // bash's ulimit -f counts KiB; SIGXFSZ ignored, so writes fail with EFBIG.
  const std::string limited = "bash -c 'trap \"\" XFSZ; ulimit -f " + std::to_string(size / 1024 / 2) + "; exec " +
                              std::string(GPS_BINARY_DIR) + "/gps train -c " + cfg_path + " --resume " + first.run_dir +
                              "' 2>&1";
  FILE* p = popen(limited.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  EXPECT_NE(WEXITSTATUS(status), 0) << out;
  EXPECT_THAT(out, HasSubstr("cannot write " + first.run_dir + "/checkpoints/"));
  EXPECT_EQ(gps::latest_checkpoint(first.run_dir), latest) << "LATEST still names the last complete checkpoint";
  gps::ResumeOptions ro;
  ro.run_dir = first.run_dir;
  const auto done = gps::train(c, "test", ro);
  EXPECT_FALSE(done.interrupted);
  expect_same_weights(c, ref.run_dir, done.run_dir);
}

// A full disk while the run writes its neighbour table, at start-up before
// any step: the error names the file, and the run started again (with room)
// trains to the weights of a run that never met the fault.
TEST_F(Lifecycle, AFullDiskAtTheNeighbourTableFailsNamingItAndTheRunStartsAgain) {
  gps::Config c = config();
  c.neighbors.rules.k = 50;  // ids.npy: 60 x 50 int64, 24 KB, more than any run file before it
  gps::Config elsewhere = c;
  elsewhere.train.out_dir = tmp.file("elsewhere");  // its own table cache
  const auto ref = gps::train(elsewhere, "test");
  std::string msg;
  {
    gps::test::FileSizeLimit full(16 * 1024);
    msg = gps::test::error_of([&] { gps::train(c, "test"); });
  }
  EXPECT_THAT(msg, HasSubstr("cannot write " + tmp.file("runs/cache/neighbors-")));
  EXPECT_THAT(msg, HasSubstr("ids.npy"));
  const auto again = gps::train(c, "test");
  EXPECT_FALSE(again.interrupted);
  expect_same_weights(c, ref.run_dir, again.run_dir);
}

TEST_F(Lifecycle, AutoResumeFindsTheUnfinishedRunWithTheSameConfig) {
  gps::Config c = config();
  c.train.name = "";
  EXPECT_EQ(gps::find_resumable_run(c), "");
  gps::request_stop(true);
  const auto first = gps::train(c, "test");
  gps::request_stop(false);
  EXPECT_EQ(gps::find_resumable_run(c), first.run_dir);
  gps::Config other = c;
  other.method.temperature = 0.5;
  EXPECT_EQ(gps::find_resumable_run(other), "") << "a different config must not pick it";
  gps::ResumeOptions ro;
  ro.run_dir = first.run_dir;
  gps::train(c, "test", ro);
  EXPECT_EQ(gps::find_resumable_run(c), "") << "a finished run is not resumed";
}

TEST_F(Lifecycle, PeriodicCheckpointsArePrunedAndLatestIsValid) {
  gps::Config c = config();
  c.train.checkpoint_every_steps = 1;
  c.train.keep_checkpoints = 2;
  const auto r = gps::train(c, "test");
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(r.run_dir + "/checkpoints")) n += e.path().extension() == ".pt";
  EXPECT_EQ(n, 2);
  EXPECT_EQ(gps::latest_checkpoint(r.run_dir), r.run_dir + "/checkpoint.pt");
}

TEST_F(Lifecycle, NonFiniteLossStopsNamingTheStep) {
  gps::Config c = config();
  c.optim.lr = 1e30;
  c.optim.warmup_epochs = 0;
  const std::string msg = gps::test::error_of([&] { gps::train(c, "test"); });
  EXPECT_THAT(msg, HasSubstr("non-finite loss at step"));
  EXPECT_THAT(msg, HasSubstr("train.nan_policy=rollback"));
}

TEST_F(Lifecycle, NonFiniteLossRollsBackWithALowerLr) {
  gps::Config c = config();
  c.optim.lr = 1e30;
  c.optim.warmup_epochs = 0;
  c.train.nan_policy = "rollback";
  c.train.nan_lr_factor = 1e-6;
  c.train.nan_max_rollbacks = 10;
  c.train.checkpoint_every_steps = 1;
  const auto r = gps::train(c, "test");
  EXPECT_EQ(r.steps, 12);
  EXPECT_TRUE(std::isfinite(r.final_loss));
  EXPECT_THAT(read_file(r.run_dir + "/metrics.jsonl"), HasSubstr("nan_rollback"));
}

TEST_F(Lifecycle, CorruptLatestCheckpointIsReportedByName) {
  gps::Config c = config();
  const auto r = gps::train(c, "test");
  gps::test::write_bytes(r.run_dir + "/checkpoint.pt", "garbage");
  std::filesystem::remove(r.run_dir + "/summary.json");
  gps::ResumeOptions ro;
  ro.run_dir = r.run_dir;
  EXPECT_THAT(gps::test::error_of([&] { gps::train(c, "test", ro); }), HasSubstr("checkpoint.pt"));
}

// A damaged checkpoint or LATEST (a flipped byte anywhere, a cut file, a
// name damaged into another checkpoint's) is refused naming the file, before
// anything of the run changes; the error names the earlier checkpoints. With
// the files restored the run resumes to the uninterrupted weights.
TEST_F(Lifecycle, ADamagedCheckpointOrLatestIsRefusedNamingTheFile) {
  gps::Config c = config();
  c.train.checkpoint_every_steps = 1;
  const auto ref = gps::train(c, "test");
  c.train.name = "damaged";
  const gps::ResumeOptions ro = stopped_run(c);
  const std::string run = ro.run_dir, latest = run + "/LATEST";
  const std::string ckpt = gps::latest_checkpoint(run);
  const std::string ckpt_bytes = read_file(ckpt), latest_bytes = read_file(latest);
  const std::string metrics = read_file(run + "/metrics.jsonl");
  ASSERT_THAT(latest_bytes, HasSubstr("\ncrc32 "));
  const auto refused = [&](const std::string& what, const std::string& file, const std::string& why) {
    SCOPED_TRACE(what);
    const std::string msg = gps::test::error_of([&] { gps::train(c, "test", ro); });
    EXPECT_THAT(msg, HasSubstr(file));
    EXPECT_THAT(msg, HasSubstr(why));
    EXPECT_EQ(read_file(run + "/metrics.jsonl"), metrics) << "nothing of the run changed";
    gps::test::write_bytes(ckpt, ckpt_bytes);
    gps::test::write_bytes(latest, latest_bytes);
  };
  const auto flipped = [](std::string b, size_t at) {
    b[at] = char(b[at] ^ 0x10);
    return b;
  };
  for (const size_t at : {size_t(0), ckpt_bytes.size() / 3, ckpt_bytes.size() / 2, ckpt_bytes.size() - 1}) {
    gps::test::write_bytes(ckpt, flipped(ckpt_bytes, at));
    refused("checkpoint byte " + std::to_string(at), ckpt, "(a damaged checkpoint)");
  }
  gps::test::write_bytes(ckpt, ckpt_bytes.substr(0, ckpt_bytes.size() / 2));
  refused("checkpoint cut in half", ckpt, "(a truncated or damaged checkpoint)");
  gps::test::write_bytes(ckpt, "");
  refused("checkpoint emptied", ckpt, "truncated");

  const size_t crc_at = latest_bytes.find("crc32 ") + 6;
  std::string digit = latest_bytes;
  digit[crc_at] = digit[crc_at] == '0' ? '1' : '0';
  gps::test::write_bytes(latest, digit);
  refused("a CRC digit of LATEST", ckpt, "(a damaged checkpoint)");
  gps::test::write_bytes(latest, flipped(latest_bytes, crc_at - 2));
  refused("the CRC word of LATEST", latest, "(a damaged LATEST)");
  gps::test::write_bytes(latest, latest_bytes.substr(0, 5));
  refused("LATEST cut", latest, "which does not exist");
  gps::test::write_bytes(latest, "");
  refused("LATEST emptied", latest, "is empty");
  // The name damaged into that of another checkpoint of the run (one of
  // other content: the finished run's last, copied in as a later step).
  const std::string rel_other = "checkpoints/step-000000012.pt", other = run + "/" + rel_other;
  std::filesystem::copy_file(gps::latest_checkpoint(ref.run_dir), other);
  gps::test::write_bytes(latest, rel_other + latest_bytes.substr(latest_bytes.find('\n')));
  refused("LATEST naming " + rel_other, other, "when it was written");
  std::filesystem::remove(other);
  {
    const std::string msg = gps::test::error_of([&] {
      gps::test::write_bytes(ckpt, flipped(ckpt_bytes, 1));
      gps::train(c, "test", ro);
    });
    EXPECT_THAT(msg, HasSubstr("write its name into LATEST")) << "the hint names an earlier checkpoint";
    gps::test::write_bytes(ckpt, ckpt_bytes);
  }
  const auto done = gps::train(c, "test", ro);
  EXPECT_FALSE(done.interrupted);
  expect_same_weights(c, ref.run_dir, done.run_dir);
}

}  // namespace
