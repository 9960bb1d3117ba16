#include "gps/train/checkpointer.h"

#include "gps/train/checkpoint.h"

#include <filesystem>

namespace gps {

Checkpointer::Checkpointer(const TrainConfig& cfg, std::string run_dir, int64_t steps_per_epoch, bool lead)
    : every_steps_(cfg.checkpoint_every_steps),
      every_epochs_(cfg.checkpoint_every_epochs),
      keep_(cfg.keep_checkpoints),
      steps_per_epoch_(steps_per_epoch),
      run_dir_(std::move(run_dir)),
      lead_(lead) {}

bool Checkpointer::due(int64_t done, int64_t total_steps) const {
  if (done >= total_steps) return false;  // the final checkpoint.pt follows
  if (every_steps_ > 0 && done % every_steps_ == 0) return true;
  return every_epochs_ > 0 && done % (steps_per_epoch_ * every_epochs_) == 0;
}

bool Checkpointer::has_checkpoint() const { return !latest_checkpoint(run_dir_).empty(); }

void Checkpointer::save(const TrainState& state, const CheckpointState& snap) const {
  if (lead_) save_state(state, snap, run_dir_, keep_);
}

void Checkpointer::save_final(const TrainState& state, const CheckpointState& snap) const {
  if (!lead_) return;
  save_state(state, snap, run_dir_, keep_, (std::filesystem::path(run_dir_) / "checkpoint.pt").string());
  set_latest(run_dir_, "checkpoint.pt");
}

}  // namespace gps
