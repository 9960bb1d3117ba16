// One log for a run: the progress line, metrics.jsonl and the trainer's
// messages. A message ends a progress line drawn in place before it is
// written, so the two never share a line. With several processes, rank 0
// alone draws, writes and prints (the others' run directory is a
// follower, run_dir.h).
#pragma once

#include "gps/train/progress.h"
#include "gps/train/run_dir.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace gps {

class RunLog {
 public:
  RunLog() = default;
  RunLog(RunDir dir, bool lead) : dir_(std::move(dir)), lead_(lead) {}

  RunDir& dir() { return dir_; }
  const std::string& path() const { return dir_.path(); }
  bool lead() const { return lead_; }

  // "[gps] <text>" on stderr.
  void message(const std::string& text);
  void warning(const std::string& text) { message("warning: " + text); }
  // message() of a printf format.
  void messagef(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // One record of metrics.jsonl.
  void metrics(const nlohmann::json& record) { dir_.log_metrics(record); }

  // The progress line of the loop, from step `step` of `total_steps`;
  // `shown`: drawn at all (train.progress).
  void start_progress(const std::string& label, int64_t total_steps, int64_t step, bool shown);
  void progress(int64_t done, int64_t epoch, double images_per_s, const std::string& values);
  void set_total(int64_t total_steps);
  void rebase(int64_t step);
  void end_progress();

 private:
  RunDir dir_;
  bool lead_ = true;
  std::optional<Progress> progress_;
};

}  // namespace gps
