#include "gps/train/run_dir.h"

#include "gps/core/check.h"

#include <filesystem>

namespace gps {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    GPS_CHECK(f, "cannot write ", tmp);
    f << content;
    f.flush();
    GPS_CHECK(f.good(), "write failed: ", tmp);
  }
  fs::rename(tmp, path);
}

RunDir RunDir::create(const std::string& parent, const std::string& name) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  GPS_CHECK(!ec, "train.out_dir: cannot create ", parent, ": ", ec.message());
  RunDir r;
  fs::path p = fs::path(parent) / name;
  for (int i = 2; fs::exists(p); ++i) p = fs::path(parent) / (name + "-" + std::to_string(i));
  fs::create_directories(p, ec);
  GPS_CHECK(!ec, "cannot create run directory ", p.string(), ": ", ec.message());
  r.path_ = p.string();
  r.metrics_.open(r.file("metrics.jsonl"), std::ios::app);
  GPS_CHECK(r.metrics_, "cannot write ", r.file("metrics.jsonl"));
  return r;
}

std::string RunDir::file(const std::string& name) const { return (fs::path(path_) / name).string(); }

void RunDir::write_text(const std::string& name, const std::string& content) const {
  write_file_atomic(file(name), content);
}

void RunDir::write_json(const std::string& name, const nlohmann::json& j) const { write_text(name, j.dump(2) + "\n"); }

void RunDir::log_metrics(const nlohmann::json& record) {
  metrics_ << record.dump() << "\n";
  metrics_.flush();
}

}  // namespace gps
