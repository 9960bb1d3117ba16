#include "gps/train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace gps {

namespace {

std::atomic<bool> g_stop{false};

// The first SIGINT or SIGTERM asks for a stop after the current step; both
// go back to their default action, so a second one of either kind ends the
// process at once, whatever a kernel is doing (a step that never returns).
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return g_stop.load(); }

void request_stop(bool on) { g_stop.store(on); }

}  // namespace gps
