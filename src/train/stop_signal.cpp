#include "gps/train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace gps {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int sig) {
  g_stop.store(true);
  std::signal(sig, SIG_DFL);  // a second signal terminates immediately
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return g_stop.load(); }

void request_stop(bool on) { g_stop.store(on); }

}  // namespace gps
