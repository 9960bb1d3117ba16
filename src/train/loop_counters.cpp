#include "gps/train/loop_counters.h"

#include "gps/core/check.h"

namespace gps {

namespace {

// One scalar (or the pair of probe counts) per entry, on the CPU.
torch::Tensor entry(torch::serialize::InputArchive& root, const char* key) {
  torch::Tensor t;
  if (!root.try_read(key, t)) return {};
  return t.to(torch::kCPU);
}

}  // namespace

void write_counters(torch::serialize::OutputArchive& root, const LoopCounters& c) {
  root.write("step", torch::tensor(c.step, torch::kInt64));
  root.write("lr_scale", torch::tensor(c.lr_scale, torch::kFloat64));
  root.write("rollbacks", torch::tensor(c.rollbacks, torch::kInt64));
  root.write("budget_steps", torch::tensor(c.budget_steps, torch::kInt64));
  root.write("budget_spent_s", torch::tensor(c.budget_spent_s, torch::kFloat64));
  root.write("probe_counts", torch::tensor({c.probe_correct, c.probe_seen}, torch::kInt64));
}

LoopCounters read_counters(torch::serialize::InputArchive& root, const std::string& path) {
  LoopCounters c;
  const auto scalar = [&](const char* key, auto& out) {
    const torch::Tensor t = entry(root, key);
    if (!t.defined()) return;
    GPS_CHECK(t.numel() == 1, path, ": checkpoint entry '", key, "' holds ", t.numel(), " values, expected 1");
    out = t.item<std::remove_reference_t<decltype(out)>>();
  };
  scalar("step", c.step);
  scalar("lr_scale", c.lr_scale);
  scalar("rollbacks", c.rollbacks);
  scalar("budget_steps", c.budget_steps);
  scalar("budget_spent_s", c.budget_spent_s);
  if (const torch::Tensor t = entry(root, "probe_counts"); t.defined()) {
    GPS_CHECK(t.numel() == 2, path, ": checkpoint entry 'probe_counts' holds ", t.numel(), " values, expected 2");
    c.probe_correct = t[0].item<int64_t>();
    c.probe_seen = t[1].item<int64_t>();
  }
  return c;
}

}  // namespace gps
