#include "gps/train/checkpoint.h"

#include "gps/core/check.h"

#include <filesystem>

namespace gps {

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
  root.write("step", torch::tensor(state.step, torch::kInt64));
  root.write("epoch", torch::tensor(state.epoch, torch::kInt64));
  const auto& y = state.config_yaml;
  root.write("config_yaml", torch::from_blob(const_cast<char*>(y.data()), {int64_t(y.size())}, torch::kUInt8).clone());
  const std::string tmp = path + ".tmp";
  root.save_to(tmp);
  std::filesystem::rename(tmp, path);
}

CheckpointState load_checkpoint_weights(const std::string& path, torch::nn::Module& method) {
  GPS_CHECK(std::filesystem::exists(path), "checkpoint ", path, " does not exist");
  torch::serialize::InputArchive root, m;
  try {
    root.load_from(path);
    GPS_CHECK(root.try_read("method", m), path, ": not a gps checkpoint (no 'method' entry)");
    method.load(m);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    GPS_FAIL(path, ": cannot load checkpoint (corrupt file, or model settings differ from the run's): ", e.what());
  }
  CheckpointState s;
  // A fresh tensor per entry: try_read cannot re-point one that already holds archive storage.
  torch::Tensor step, epoch, yaml;
  if (root.try_read("step", step)) s.step = step.item<int64_t>();
  if (root.try_read("epoch", epoch)) s.epoch = epoch.item<int64_t>();
  if (root.try_read("config_yaml", yaml))
    s.config_yaml.assign(reinterpret_cast<const char*>(yaml.data_ptr<uint8_t>()), yaml.numel());
  return s;
}

}  // namespace gps
