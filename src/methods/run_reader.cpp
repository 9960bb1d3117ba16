#include "gps/methods/run_reader.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"
#include "gps/methods/weights.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace gps {

namespace fs = std::filesystem;

namespace {

// One scalar of config.yaml as JSON (see RunReader::config_section).
nlohmann::json scalar_json(const YAML::Node& node) {
  const std::string v = node.Scalar();
  if (node.Tag() == "!") return v;  // quoted
  if (v == "true" || v == "false") return v == "true";
  char* end = nullptr;
  const long long i = std::strtoll(v.c_str(), &end, 10);
  if (!v.empty() && *end == '\0') return int64_t(i);
  const double d = std::strtod(v.c_str(), &end);
  if (!v.empty() && *end == '\0') return d;
  return v;
}

}  // namespace

bool RunReader::is_run(const std::string& dir) { return fs::exists(fs::path(dir) / "config.yaml"); }

RunReader::RunReader(std::string dir, std::string option) : dir_(std::move(dir)), option_(std::move(option)) {
  GPS_CHECK(is_run(dir_), option_, ": ", dir_, " is not a gps run directory (no config.yaml)");
}

std::string RunReader::file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

nlohmann::json RunReader::config_section(const std::string& name) const {
  const std::string path = config_path();
  YAML::Node root;
  try {
    root = YAML::Load(read_file(path, "run config"));
  } catch (const YAML::Exception& e) {
    GPS_FAIL(path, ": invalid YAML: ", e.what());
  }
  nlohmann::json out = nlohmann::json::object();
  if (!root.IsMap() || !root[name].IsMap()) return out;
  for (const auto& kv : root[name]) {
    const std::string key = kv.first.Scalar();
    GPS_CHECK(kv.second.IsScalar(), path, ": ", name, ".", key, ": expected a single value");
    out[key] = scalar_json(kv.second);
  }
  return out;
}

MethodConfig RunReader::method_config() const {
  try {
    return config_section("method").get<MethodConfig>();
  } catch (const nlohmann::json::exception& e) {
    GPS_FAIL(config_path(), ": unexpected method values: ", e.what());
  }
}

ModelConfig RunReader::model_config() const {
  try {
    return config_section("model").get<ModelConfig>();
  } catch (const nlohmann::json::exception& e) {
    GPS_FAIL(config_path(), ": unexpected model values: ", e.what());
  }
}

std::string RunReader::latest() const { return latest_checkpoint(dir_); }

std::string RunReader::checkpoint() const {
  GPS_CHECK(fs::exists(file("checkpoint.pt")) || fs::exists(file("LATEST")), option_, ": ", dir_,
            " has no checkpoint yet (neither checkpoint.pt nor LATEST)");
  return final_checkpoint(dir_);
}

std::vector<std::string> RunReader::checkpoints() const {
  std::vector<std::string> all = periodic_checkpoints(dir_);
  if (fs::exists(file("checkpoint.pt"))) all.push_back(file("checkpoint.pt"));
  return all;
}

Method RunReader::load_method(const MethodConfig& method, const ModelConfig& model, int64_t in_channels,
                              const torch::Device& device) const {
  Method m = make_method(method, model, in_channels);
  m->to(device);
  load_method_weights(checkpoint(), *m);
  return m;
}

}  // namespace gps
