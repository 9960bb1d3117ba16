#include "gps/train/checkpoint.h"

#include "gps/core/check.h"
#include "gps/io/fs.h"
#include "gps/train/run_dir.h"

#include <ATen/CPUGeneratorImpl.h>


#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <fstream>
#include <mutex>

namespace gps {

namespace fs = std::filesystem;

namespace {

torch::Tensor string_tensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {int64_t(s.size())}, torch::kUInt8).clone();
}

torch::Tensor read_tensor(torch::serialize::InputArchive& root, const char* key) {
  torch::Tensor t;  // fresh per entry: try_read cannot re-point a tensor that holds archive storage
  if (!root.try_read(key, t)) return {};
  return t.to(torch::kCPU);
}

}  // namespace

std::string data_fingerprint(const Dataset& d) { return str_cat(d.name, "@", hex64(fingerprint(d)), ";n=", d.size()); }

std::string read_string_entry(torch::serialize::InputArchive& root, const char* key) {
  const auto t = read_tensor(root, key);
  return t.defined() ? std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), size_t(t.numel())) : "";
}

void save_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                     torch::optim::Optimizer& optimizer, const CheckpointState& state) {
  torch::serialize::OutputArchive root, m, c, o;
  method.save(m);
  root.write("method", m);
  if (classifier) {
    classifier->save(c);
    root.write("classifier", c);
  }
  optimizer.save(o);
  root.write("optimizer", o);
  write_counters(root, state.loop);
  root.write("epoch", torch::tensor(state.epoch, torch::kInt64));
  root.write("config_yaml", string_tensor(state.config_yaml));
  if (!state.data_fingerprint.empty()) root.write("data_fingerprint", string_tensor(state.data_fingerprint));
  if (!state.table_fingerprint.empty()) root.write("table_fingerprint", string_tensor(state.table_fingerprint));
  if (state.rng_state.defined()) root.write("rng_state", state.rng_state);
  if (state.device_rng_state.defined()) root.write("device_rng_state", state.device_rng_state);
  if (state.table.ids.defined()) {
    root.write("table_ids", state.table.ids);
    root.write("table_dists", state.table.dists);
    root.write("table_counts", state.table.counts);
  }
  // Serialised in memory first: LibTorch's file writer finishes the archive
  // in a destructor, so a full disk there aborts the process instead of
  // throwing. Our write of the bytes fails cleanly, naming the file.
  std::ostringstream bytes;
  root.save_to(bytes);
  atomic_write_text(path, bytes.str());  // durable: fsync, rename, fsync folder
}

CheckpointState load_checkpoint(const std::string& path, torch::nn::Module& method, torch::nn::Module* classifier,
                                torch::optim::Optimizer* optimizer) {
  auto root = read_checkpoint_archive(path, module_device(method));
  load_method_entry(root, path, method);
  try {
    if (classifier) {
      torch::serialize::InputArchive c;
      GPS_CHECK(root.try_read("classifier", c), path, ": has no online classifier, but this run trains one");
      classifier->load(c);
    }
    if (optimizer) {
      torch::serialize::InputArchive o;
      GPS_CHECK(root.try_read("optimizer", o), path, ": has no optimiser state");
      // LibTorch 2.x's load() keeps the state of parameters the file has none
      // for (a step-0 checkpoint has no momentum yet): start from empty, so a
      // NaN rollback does not keep the diverged momentum.
      optimizer->state().clear();
      optimizer->load(o);
    }
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {  // LibTorch's message, without its C++ backtrace
    GPS_FAIL(path, ": cannot load checkpoint (corrupt file, or model settings differ from the run's): ",
             e.what_without_backtrace());
  } catch (const std::exception& e) {
    GPS_FAIL(path, ": cannot load checkpoint (corrupt file, or model settings differ from the run's): ", e.what());
  }
  CheckpointState s;
  s.loop = read_counters(root, path);
  if (auto t = read_tensor(root, "epoch"); t.defined()) s.epoch = t.item<int64_t>();
  s.config_yaml = read_string_entry(root, "config_yaml");
  s.data_fingerprint = read_string_entry(root, "data_fingerprint");
  s.table_fingerprint = read_string_entry(root, "table_fingerprint");
  s.rng_state = read_tensor(root, "rng_state");
  s.device_rng_state = read_tensor(root, "device_rng_state");
  s.table.ids = read_tensor(root, "table_ids");
  if (s.table.ids.defined()) {
    s.table.dists = read_tensor(root, "table_dists");
    s.table.counts = read_tensor(root, "table_counts");
    GPS_CHECK(s.table.dists.defined() && s.table.counts.defined(), path, ": neighbour table is incomplete");
  }
  return s;
}

std::string save_run_checkpoint(const std::string& run_dir, int64_t keep, torch::nn::Module& method,
                                torch::nn::Module* classifier, torch::optim::Optimizer& optimizer,
                                const CheckpointState& state) {
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  fs::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof(name), "step-%09lld.pt", static_cast<long long>(state.loop.step));
  const std::string path = (dir / name).string();
  save_checkpoint(path, method, classifier, optimizer, state);
  set_latest(run_dir, (fs::path("checkpoints") / name).string());
  // Prune: names sort by step (zero-padded); never the one just written, nor step 0.
  const auto all = periodic_checkpoints(run_dir);
  const size_t k = size_t(std::max<int64_t>(1, keep));
  for (size_t i = 0; i + k < all.size(); ++i)
    if (fs::path(all[i]).filename() != "step-000000000.pt") fs::remove(all[i]);
  return path;
}

void set_latest(const std::string& run_dir, const std::string& relative) {
  const std::string latest = (fs::path(run_dir) / "LATEST").string();
  // The file's CRC-32 and size as written: latest_checkpoint refuses a
  // checkpoint damaged later (a flipped byte, a cut file), or a LATEST whose
  // name was damaged into another file's.
  const std::string file = (fs::path(run_dir) / relative).string();
  atomic_write_text(latest, str_cat(relative, "\ncrc32 ", file_crc32(file), " bytes ", fs::file_size(file), "\n"));
}

}  // namespace gps
