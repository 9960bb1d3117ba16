#include "gps/methods/weights.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

#include <filesystem>
#include <fstream>

namespace gps {

namespace fs = std::filesystem;

namespace {

// "---> HINT: ..." naming the run's checkpoints other than `bad`, for an
// error about the one LATEST names.
std::string other_checkpoints_hint(const fs::path& run_dir, const fs::path& bad) {
  std::vector<std::string> names;
  const fs::path dir = run_dir / "checkpoints";
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".pt" && e.path() != bad) names.push_back("checkpoints/" + e.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty()) return "\n---> HINT: this run has no other checkpoint; start it again";
  return str_cat("\n---> HINT: to resume from an earlier checkpoint, write its name into LATEST: echo ", names.back(),
                 " > ", (run_dir / "LATEST").string(), " (this run has ", names.size(), ": ", names.front(),
                 names.size() > 1 ? " ... " + names.back() : std::string(), ")");
}

}  // namespace

std::string latest_checkpoint(const std::string& run_dir) {
  const fs::path latest = fs::path(run_dir) / "LATEST";
  if (!fs::exists(latest)) return "";
  std::istringstream text(read_file(latest.string(), "LATEST"));
  std::string rel, check;
  std::getline(text, rel);
  std::getline(text, check);
  GPS_CHECK(!rel.empty(), latest.string(), " is empty (expected the name of a checkpoint file)");
  const fs::path p = fs::path(run_dir) / rel;
  GPS_CHECK(fs::is_regular_file(p), latest.string(), " names ", p.string(), ", which does not exist",
            other_checkpoints_hint(run_dir, p));
  if (check.empty()) return p.string();  // written by hand, or by a gps before the check
  char crc[9] = {0};
  unsigned long long bytes = 0;
  GPS_CHECK(std::sscanf(check.c_str(), "crc32 %8[0-9a-f] bytes %llu", crc, &bytes) == 2 && std::strlen(crc) == 8,
            latest.string(), ": second line '", check, "' is not 'crc32 <8 hex digits> bytes <size>' (a damaged LATEST)",
            other_checkpoints_hint(run_dir, fs::path()));
  const auto size = fs::file_size(p);
  GPS_CHECK(size == bytes, p.string(), " has ", size, " bytes, but ", latest.string(), " recorded ", bytes,
            " when it was written (a truncated or damaged checkpoint)", other_checkpoints_hint(run_dir, p));
  const std::string actual = file_crc32(p.string());
  GPS_CHECK(actual == crc, p.string(), " has CRC-32 ", actual, ", but ", latest.string(), " recorded ", crc,
            " when it was written (a damaged checkpoint)", other_checkpoints_hint(run_dir, p));
  return p.string();
}

std::vector<std::string> periodic_checkpoints(const std::string& run_dir) {
  std::vector<std::string> all;
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(dir)) return all;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".pt" && e.path().filename().string().rfind("step-", 0) == 0)
      all.push_back(e.path().string());
  std::sort(all.begin(), all.end());  // zero-padded step numbers: oldest first
  return all;
}

std::string final_checkpoint(const std::string& run_dir) {
  const fs::path p = fs::path(run_dir) / "checkpoint.pt";
  const std::string latest = latest_checkpoint(run_dir);  // checked against LATEST's CRC-32
  if (fs::exists(p)) return p.string();
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
  } catch (const c10::Error& e) {  // LibTorch's message, without its C++ backtrace
    GPS_FAIL(path, ": cannot load checkpoint (corrupt file, or model settings differ from the run's): ",
             e.what_without_backtrace());
  } catch (const std::exception& e) {
    GPS_FAIL(path, ": cannot load checkpoint (corrupt file, or model settings differ from the run's): ", e.what());
  }
}

void load_method_weights(const std::string& path, torch::nn::Module& method) {
  auto root = read_checkpoint_archive(path, module_device(method));
  load_method_entry(root, path, method);
}

}  // namespace gps
