// Starting the built gps executable from a test (for runs that are killed,
// interrupted or launched as several processes).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>  // environ (_GNU_SOURCE)

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace gps::test {

// Starts GPS_BINARY_DIR/gps with `args`, stdout and stderr appended to `log`,
// in this process's environment; returns the pid, or -1.
inline pid_t spawn_with_env(const std::vector<std::string>& args, const std::vector<std::string>& env,
                            const std::string& log);

inline pid_t spawn_gps(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {std::string(GPS_BINARY_DIR) + "/gps"};
  all.insert(all.end(), args.begin(), args.end());
  return spawn_with_env(all, {}, log);
}

// Starts `argv` (argv[0] a path) with stdout and stderr appended to `log`, in
// this process's environment plus `env` ("NAME=value" entries, which win);
// returns the pid, or -1.
inline pid_t spawn_with_env(const std::vector<std::string>& args, const std::vector<std::string>& env,
                            const std::string& log) {
  std::vector<std::string> all = args;
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> vars = env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v(*e);
    bool overridden = false;
    for (const auto& o : env) overridden |= v.substr(0, v.find('=') + 1) == o.substr(0, o.find('=') + 1);
    if (!overridden) vars.push_back(v);
  }
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// Exit code of `pid`, or 128 + signal; -1 (after SIGKILL) when it did not
// end within `limit`.
inline int wait_exit_within(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(600)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace gps::test
