#include "gps/methods/weights.h"

#include "gps/core/check.h"

#include <filesystem>
#include <fstream>

namespace gps {

namespace fs = std::filesystem;

std::string latest_checkpoint(const std::string& run_dir) {
  const fs::path latest = fs::path(run_dir) / "LATEST";
  if (!fs::exists(latest)) return "";
  std::ifstream f(latest);
  std::string rel;
  std::getline(f, rel);
  GPS_CHECK(!rel.empty(), latest.string(), " is empty (expected the name of a checkpoint file)");
  const fs::path p = fs::path(run_dir) / rel;
  GPS_CHECK(fs::exists(p), latest.string(), " names ", p.string(), ", which does not exist");
  return p.string();
}

std::string final_checkpoint(const std::string& run_dir) {
  const fs::path p = fs::path(run_dir) / "checkpoint.pt";
  if (fs::exists(p)) return p.string();
  const std::string latest = latest_checkpoint(run_dir);
  GPS_CHECK(!latest.empty(), run_dir, " has no checkpoint (neither checkpoint.pt nor LATEST): is it a gps run directory?");
  return latest;
}

torch::Device module_device(const torch::nn::Module& module) {
  const auto params = module.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

torch::serialize::InputArchive read_checkpoint_archive(const std::string& path, const torch::Device& device) {
  GPS_CHECK(fs::exists(path), "checkpoint ", path, " does not exist");
  torch::serialize::InputArchive root;
  try {
    root.load_from(path, device);
  } catch (const std::exception& e) {
    GPS_FAIL(path, ": cannot read checkpoint (truncated or corrupt file): ", e.what());
  }
  return root;
}

void load_method_entry(torch::serialize::InputArchive& root, const std::string& path, torch::nn::Module& method) {
  try {
    torch::serialize::InputArchive m;
    GPS_CHECK(root.try_read("method", m), path, ": not a gps checkpoint (no 'method' entry)");
    method.load(m);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    GPS_FAIL(path, ": cannot load checkpoint (corrupt file, or model settings differ from the run's): ", e.what());
  }
}

void load_method_weights(const std::string& path, torch::nn::Module& method) {
  auto root = read_checkpoint_archive(path, module_device(method));
  load_method_entry(root, path, method);
}

}  // namespace gps
