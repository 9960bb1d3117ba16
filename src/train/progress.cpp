#include "gps/train/progress.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace gps {

std::string format_duration(double s) {
  if (s < 0) s = 0;
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof(buf), "%lds", t);
  return buf;
}

Progress::Progress(std::string label, int64_t total_steps, bool enabled, double min_interval_s)
    : label_(std::move(label)), total_(total_steps), enabled_(enabled), min_interval_(min_interval_s) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t step, int64_t epoch, double images_per_s, const std::string& values) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = step >= total_;
  const bool tty = isatty(fileno(stderr));
  // Redirected output (logs, CI) gets a whole line at most every 10 s.
  const double interval = tty ? min_interval_ : std::max(min_interval_, 10.0);
  if (drawn_ && !last && std::chrono::duration<double>(now - last_).count() < interval) return;
  last_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = step > first_ ? elapsed * double(total_ - step) / double(step - first_) : 0.0;
  std::fprintf(stderr, "%s[%s] step %lld/%lld (%3.0f%%) epoch %lld | %s | %.0f img/s | elapsed %s ETA %s%s",
               tty ? "\r\033[K" : "", label_.c_str(), static_cast<long long>(step), static_cast<long long>(total_),
               100.0 * double(step) / double(total_), static_cast<long long>(epoch), values.c_str(), images_per_s,
               format_duration(elapsed).c_str(), format_duration(eta).c_str(), tty ? "" : "\n");
  open_ = tty;
  std::fflush(stderr);
}

void Progress::rebase(int64_t step) {
  first_ = step;
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::finish() { break_line(); }

void Progress::break_line() {
  if (open_) std::fprintf(stderr, "\n");
  open_ = false;
}

}  // namespace gps
