// A run directory: everything one run writes (resolved config, command line,
// metrics, evaluation, checkpoint) lives in one folder.
#pragma once

#include "gps/io/fs.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <string>

namespace gps {

class RunDir {
 public:
  // Creates `parent/name` (or `parent/name-2`, ... when it exists).
  static RunDir create(const std::string& parent, const std::string& name);

  // Reopens an existing run directory to continue it. metrics.jsonl keeps its
  // records up to step `keep_until_step` (later ones were logged after the
  // checkpoint being resumed and will be logged again).
  static RunDir open(const std::string& path, int64_t keep_until_step);

  // A run directory that another process writes (training ranks other than
  // 0): path() and file() name it, and every writer below does nothing, so
  // the ranks share one code path without racing on the files.
  static RunDir follow(const std::string& path);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const;
  // Writes a whole file atomically and durably (gps/io/fs.h).
  void write_text(const std::string& name, const std::string& content) const;
  void write_json(const std::string& name, const nlohmann::json& j) const;
  // Appends one JSON object as a line to metrics.jsonl (flushed).
  void log_metrics(const nlohmann::json& record);

 private:
  std::string path_;
  std::shared_ptr<DirLock> lock_;  // one writer per run directory (gps/io/fs.h)
  std::ofstream metrics_;
  bool writes_ = true;
};

}  // namespace gps
