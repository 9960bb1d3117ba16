#include "gps/train/step_monitor.h"

#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/train/checkpoint.h"

#include <cmath>

namespace gps {

StepMonitor::StepMonitor(const torch::Device& device)
    : first_bad_(torch::full({}, -1, torch::TensorOptions().dtype(torch::kInt64).device(device))),
      correct_(torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device))) {}

void StepMonitor::record(const StepStats& st, int64_t step) {
  first_bad_ = torch::where(first_bad_.lt(0).logical_and(st.finite.logical_not()), step, first_bad_);
  if (st.probe_correct.defined()) correct_ += st.probe_correct;
  last_ = st;
}

Settled StepMonitor::settle(TrainState& s, dist::Group* group) {
  Settled out;
  // NCCL: the collectives queued since the last settle end (or a lost rank
  // is named) before the host reads anything that depends on them.
  if (group) group->wait_pending();
  out.first_bad_step = first_bad_.item<int64_t>();
  const bool has_probe = last_.probe_loss.defined();
  auto host = torch::tensor({out.first_bad_step >= 0 ? 1.0 : 0.0, double(correct_.item<int64_t>()),
                             has_probe ? last_.probe_loss.item<double>() : 0.0},
                            torch::kFloat64);
  // One all-reduce makes every rank take the same branch and gives the
  // global probe counts. The SSL loss is already the global one (the
  // methods gather embeddings); the probe loss is per rank.
  if (group) group->all_reduce_sum(host);
  const int world = group ? group->world() : 1;
  out.finite = host[0].item<double>() == 0;
  s.loop.probe_correct += int64_t(std::llround(host[1].item<double>()));
  out.probe_loss = host[2].item<double>() / world;
  if (last_.loss.defined()) out.loss = last_.loss.item<double>();
  for (const auto& [k, v] : last_.logs) out.logs[k] = v.item<double>();
  correct_.zero_();
  return out;
}

void StepMonitor::reset() {
  first_bad_.fill_(-1);
  correct_.zero_();
}

std::string NanGuard::what(const Settled& s, int64_t done, int64_t steps_per_epoch) {
  if (s.first_bad_step < 0) return str_cat("non-finite loss by step ", done - 1, " on another process");
  std::string bad;
  for (const auto& [k, v] : s.logs)
    if (!std::isfinite(v)) bad += str_cat(bad.empty() ? "" : ", ", k, " = ", v);
  const std::string loss = str_cat("loss = ", s.loss);
  return str_cat("non-finite loss at step ", s.first_bad_step, " (epoch ", s.first_bad_step / steps_per_epoch,
                 "); at step ", done - 1, ": ", bad.empty() ? loss : str_cat(loss, "; non-finite components: ", bad));
}

std::string NanGuard::rollback_to(const std::string& run_dir, int64_t rollbacks_so_far) const {
  if (cfg_.nan_policy != "rollback" || rollbacks_so_far >= cfg_.nan_max_rollbacks) return "";
  const auto saved = periodic_checkpoints(run_dir);
  if (saved.empty()) return "";
  return saved[size_t(std::max<int64_t>(0, int64_t(saved.size()) - 1 - in_a_row_))];
}

void NanGuard::stop(const std::string& what) const {
  GPS_FAIL(what, "\n---> HINT: lower optim.lr",
           cfg_.nan_policy == "rollback"
               ? " (rollbacks exhausted: train.nan_max_rollbacks)"
               : ", or set train.nan_policy=rollback to retry from the last checkpoint with a lower lr");
}

}  // namespace gps
