#include "gps/train/run_dir.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"


#include <filesystem>
#include <sstream>

namespace gps {

namespace fs = std::filesystem;

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
  r.lock_ = std::make_shared<DirLock>(r.path_, "run directory");
  r.metrics_.open(r.file("metrics.jsonl"), std::ios::app);
  GPS_CHECK(r.metrics_, "cannot write ", r.file("metrics.jsonl"));
  return r;
}

RunDir RunDir::open(const std::string& path, int64_t keep_until_step) {
  GPS_CHECK(fs::is_directory(path), "run directory ", path, " does not exist");
  RunDir r;
  r.path_ = path;
  r.lock_ = std::make_shared<DirLock>(path, "run directory");  // before anything in it changes
  const std::string metrics = r.file("metrics.jsonl");
  if (fs::exists(metrics)) {
    // Keep records up to the resumed step; untimed records (events) are kept
    // while they come before the first record past it.
    std::ifstream in(metrics);
    std::string line, kept;
    bool past = false;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) continue;  // a line cut by the crash
      if (j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() > keep_until_step) past = true;
      if (!past) kept += line + "\n";
    }
    atomic_write_text(metrics, kept);
  }
  r.metrics_.open(metrics, std::ios::app);
  GPS_CHECK(r.metrics_, "cannot write ", metrics);
  return r;
}

RunDir RunDir::follow(const std::string& path) {
  RunDir r;
  r.path_ = path;
  r.writes_ = false;
  return r;
}

std::string RunDir::file(const std::string& name) const { return (fs::path(path_) / name).string(); }

void RunDir::write_text(const std::string& name, const std::string& content) const {
  if (!writes_) return;
  atomic_write_text(file(name), content);
}

void RunDir::write_json(const std::string& name, const nlohmann::json& j) const { write_text(name, j.dump(2) + "\n"); }

void RunDir::log_metrics(const nlohmann::json& record) {
  if (!writes_) return;
  metrics_ << record.dump() << "\n";
  metrics_.flush();
}

}  // namespace gps
