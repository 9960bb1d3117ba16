// A run before its first step: everything it needs, resolved and checked.
// Devices, threads and processes; the data and what evaluation will need
// (eval_data.h); the run directory and its log; the positive-pair table
// (GPS neighbours, or the self table of plain SSL) and its sampler; the
// augmentation; the training state, resumed from its checkpoint when the
// run continues; the schedule.
#pragma once

#include "gps/augment/augment.h"
#include "gps/config/config.h"
#include "gps/core/precision.h"
#include "gps/data/dataset.h"
#include "gps/neighbors/table_cache.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/eval_data.h"
#include "gps/train/run_log.h"
#include "gps/train/train_state.h"
#include "gps/train/trainer.h"

#include <memory>
#include <string>

namespace gps {

namespace dist {
class Group;
}

// Where and how this process trains.
struct Placement {
  dist::Group* group = nullptr;  // several processes (process_group.h); null: one
  int world = 1, rank = 0;
  bool lead = true;              // rank 0: writes the run directory and evaluates
  int threads = 1;
  torch::Device device{torch::kCPU};
  Precision precision = Precision::fp32;
  std::string sync_debug;        // GPS_SYNC_DEBUG
  bool prefetch = false;         // batch b+1 prepared while step b computes (train.prefetch)
  int loader_threads = 1;        // the prefetch's threads
};

// The run's length and learning rate, in steps.
struct Schedule {
  int64_t steps_per_epoch = 1;
  int64_t cap_steps = 0;         // optim.epochs' steps: the length unless optim.budget_minutes shortens it
  int64_t warmup_steps = 0;
  int64_t batch = 1;             // the global batch
  double lr = 0;                 // optim.lr, scaled by batch / 256 when optim.scale_lr
};

struct RunSetup {
  Config cfg;                    // as given
  Config aux;                    // prior.device and neighbors.device "auto" resolved to this rank's device
  Placement place;
  Schedule schedule;
  uint64_t seed = 0;
  Dataset train_set;
  EvalData eval_data;
  RunLog log;                    // the run directory, metrics.jsonl, progress and messages
  std::string resumed_from;      // the checkpoint the state was restored from ("" for a new run)
  TableInfo table;               // the GPS table's cache entry, or fingerprint "self"
  std::unique_ptr<PairSampler> sampler;
  bool table_refreshed = false;  // the sampler's table was rebuilt during training: checkpoints carry it
  std::unique_ptr<Augmentation> augment;
  bool probe = false;            // an online linear probe trains alongside
  TrainState state;

  std::string data_fingerprint;  // the training images (checkpoint.h data_fingerprint), recorded in checkpoints

  // Restores the state from checkpoint `path` (and the sampler's table when
  // the checkpoint carries one). `rollback`: see train_state.h restore().
  // Refuses a checkpoint made with another initial table unless `force`.
  void restore_from(const std::string& path, bool rollback, bool force = false);
};

// Resolves, loads, checks and builds everything above, in an order that
// keeps the run bit-identical to earlier versions (the random draws of the
// prior, the model's initialisation and the resumed generator). Throws
// gps::Error for bad input before any step is trained.
std::unique_ptr<RunSetup> set_up_run(const Config& cfg, const std::string& command_line, const ResumeOptions& resume);

}  // namespace gps
