// When the loop writes a checkpoint, and the writing: periodic checkpoints
// every train.checkpoint_every_steps steps or train.checkpoint_every_epochs
// epochs (the newest train.keep_checkpoints kept), and the final or
// interrupted state as checkpoint.pt. Rank 0 writes; on the other ranks
// every write does nothing.
#pragma once

#include "gps/config/config.h"
#include "gps/train/train_state.h"

#include <string>

namespace gps {

class Checkpointer {
 public:
  Checkpointer(const TrainConfig& cfg, std::string run_dir, int64_t steps_per_epoch, bool lead);

  // True when a periodic checkpoint follows step `done` of a run of
  // `total_steps` steps (never after the last: checkpoint.pt follows).
  bool due(int64_t done, int64_t total_steps) const;
  // True when the run has a checkpoint to go back to.
  bool has_checkpoint() const;

  // The next periodic checkpoint, checkpoints/step-<N>.pt; LATEST names it.
  void save(const TrainState& state, const CheckpointState& snap) const;
  // checkpoint.pt, and LATEST names it.
  void save_final(const TrainState& state, const CheckpointState& snap) const;

 private:
  int64_t every_steps_, every_epochs_, keep_, steps_per_epoch_;
  std::string run_dir_;
  bool lead_;
};

}  // namespace gps
