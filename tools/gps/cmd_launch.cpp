// gps launch --nproc N [--master-port P] -- train -c CONFIG ...: starts N
// copies of this executable on this machine with torchrun's environment
// variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), forwards SIGINT/SIGTERM to them, and fails when any fails.
#include "commands.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace gps::cli {

namespace {

// Children to forward signals to; written before the handlers are installed.
pid_t g_children[256];
volatile sig_atomic_t g_num_children = 0;

void forward_signal(int sig) {
  for (sig_atomic_t i = 0; i < g_num_children; ++i) ::kill(g_children[i], sig);
}

// Exit status of a child as a shell reports it (128 + signal when killed).
int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int launch(int nproc, int port, const std::vector<std::string>& command) {
  GPS_CHECK(nproc >= 1 && nproc <= 256, "gps launch: --nproc must be in [1, 256], got ", nproc);
  GPS_CHECK(port >= 0 && port <= 65535, "gps launch: --master-port must be in [0, 65535] (0: a free port), got ", port);
  GPS_CHECK(!command.empty(), "gps launch: no command; usage: gps launch --nproc N -- train -c CONFIG [key=value ...]");
  GPS_CHECK(command[0] == "train", "gps launch: only `train` runs in several processes, got `", command[0], "`");
  if (port == 0) port = dist::free_local_port();
  std::vector<std::string> argv_s{"/proc/self/exe"};
  argv_s.insert(argv_s.end(), command.begin(), command.end());
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  GPS_CHECK(n > 0, "gps launch: cannot find this executable (/proc/self/exe)");
  exe[n] = '\0';
  argv_s[0] = exe;
  std::fprintf(stderr, "[gps] launch: %d processes, rendezvous 127.0.0.1:%d\n", nproc, port);
  std::fflush(nullptr);

  std::vector<pid_t> pids;
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = ::fork();
    GPS_CHECK(pid >= 0, "gps launch: fork failed for rank ", r);
    if (pid == 0) {
      // Own process group: a terminal's Ctrl-C reaches only the launcher,
      // which forwards it once (a second SIGINT would kill a rank at once).
      ::setpgid(0, 0);
      const std::string rs = std::to_string(r), ws = std::to_string(nproc), ps = std::to_string(port);
      ::setenv("RANK", rs.c_str(), 1);
      ::setenv("LOCAL_RANK", rs.c_str(), 1);
      ::setenv("WORLD_SIZE", ws.c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", ws.c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", ps.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::fprintf(stderr, "gps launch: cannot run %s\n", argv[0]);
      ::_exit(127);
    }
    pids.push_back(pid);
    g_children[r] = pid;
    g_num_children = r + 1;
  }
  struct sigaction sa{};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  // Wait for all; when one fails the others cannot go on (their collectives
  // would wait for it), so they are stopped: SIGTERM, then SIGKILL after 10 s.
  int result = 0, left = nproc;
  bool stopping = false;
  auto deadline = std::chrono::steady_clock::now();
  while (left > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, stopping ? WNOHANG : 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pid == 0) {  // stopping, none exited yet
      if (std::chrono::steady_clock::now() > deadline)
        for (pid_t p : pids) ::kill(p, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    --left;
    const int code = exit_code(status);
    int rank = 0;
    for (int r = 0; r < nproc; ++r)
      if (pids[size_t(r)] == pid) rank = r, pids[size_t(r)] = -1;
    if (code != 0 && result == 0) {
      result = code;
      if (code != 130) std::fprintf(stderr, "[gps] launch: rank %d exited with status %d\n", rank, code);
      if (left > 0 && !stopping) {
        stopping = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (pid_t p : pids)
          if (p > 0) ::kill(p, SIGTERM);
      }
    }
  }
  return result;
}

}  // namespace

Runner add_launch(CLI::App& app) {
  auto nproc = std::make_shared<int>(2);
  auto port = std::make_shared<int>(0);
  auto command = std::make_shared<std::vector<std::string>>();
  app.add_option("--nproc", *nproc, "number of processes (ranks) on this machine")->required();
  app.add_option("--master-port", *port, "TCP port of the rendezvous on 127.0.0.1 (default: a free one)");
  app.add_option("command", *command, "the gps command every rank runs, after --: train -c CONFIG [key=value ...]")
      ->required();
  app.footer(
      "Example: gps launch --nproc 2 -- train -c configs/fmnist-simclr-weak.yaml\n"
      "optim.batch_size is the global batch (each rank takes batch/N rows); rank 0 writes the run directory.\n"
      "On GPUs (train.device=auto or cuda) local rank r trains on cuda:r and the ranks talk over NCCL;\n"
      "on the CPU over Gloo, with the machine's cores shared among the ranks.\n"
      "Several machines: run `gps train` on each with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,\n"
      "MASTER_ADDR and MASTER_PORT set (README, \"Several processes\").");
  return [nproc, port, command]() { return launch(*nproc, *port, *command); };
}

}  // namespace gps::cli
