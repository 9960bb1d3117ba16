#include "gps/train/run_log.h"

#include <cstdarg>
#include <cstdio>

namespace gps {

void RunLog::message(const std::string& text) {
  if (!lead_) return;
  if (progress_) progress_->break_line();
  std::fprintf(stderr, "[gps] %s\n", text.c_str());
  std::fflush(stderr);
}

void RunLog::messagef(const char* format, ...) {
  char text[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  message(text);
}

void RunLog::start_progress(const std::string& label, int64_t total_steps, int64_t step, bool shown) {
  progress_.emplace(label, total_steps, shown && lead_);
  progress_->rebase(step);
}

void RunLog::progress(int64_t done, int64_t epoch, double images_per_s, const std::string& values) {
  if (progress_) progress_->update(done, epoch, images_per_s, values);
}

void RunLog::set_total(int64_t total_steps) {
  if (progress_) progress_->set_total(total_steps);
}

void RunLog::rebase(int64_t step) {
  if (progress_) progress_->rebase(step);
}

void RunLog::end_progress() {
  if (progress_) progress_->finish();
}

}  // namespace gps
