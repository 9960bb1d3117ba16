// Training of one SSL run (plain or GPS), evaluation included.
#pragma once

#include "gps/config/config.h"
#include "gps/train/run_summary.h"

#include <nlohmann/json.hpp>

#include <string>

namespace gps {

// summary.json's numbers (run_summary.h) and the run directory.
struct TrainResult : RunSummary {
  std::string run_dir;
};

// Continuing a run: `run_dir` names the run directory to continue (empty: a
// new run). Its LATEST checkpoint is restored (model, optimiser, step, RNG,
// table, probe counters) and training goes on to the configured end; the
// result is bit-identical to an uninterrupted run on the CPU with the same
// threads. A config whose training keys differ from the run's config.yaml is
// refused unless `force`.
struct ResumeOptions {
  std::string run_dir;
  bool force = false;
};

// Runs one training as configured: loads data, builds or reuses the
// neighbour table (gps=true) or the self table (gps=false), trains, writes
// the run directory (config.yaml, env.json, command.txt, metrics.jsonl, checkpoint.pt,
// summary.json with eval) and returns its numbers. When a stop is requested
// (stop_signal.h) it finishes the current step, writes checkpoint and
// summary, skips evaluation and returns with `interrupted` set. `command_line` is recorded.
// Throws gps::Error for bad input.
TrainResult train(const Config& cfg, const std::string& command_line, const ResumeOptions& resume = {});

// `cfg` with prior.device and neighbors.device "auto" set to `device`, the
// device this process trains on (follow_device): a rank on cuda:1 builds
// its prior and table there, not on cuda:0.
Config with_auto_devices_resolved(const Config& cfg, const torch::Device& device);

// `cfg` as a run would use it, for `gps train --check / --print-config`:
// validated, augment.preset resolved to the method's own (augment_for),
// train.precision and the "auto" devices resolved on this machine. Reads no
// data and writes nothing; throws gps::Error naming the bad key.
Config resolved_config(const Config& cfg);

// `--resume auto`: the run directory to continue for `cfg`, or "" for a new
// run. With train.name set: out_dir/name when it exists. Otherwise the newest
// unfinished run directory under train.out_dir whose training keys equal cfg's.
std::string find_resumable_run(const Config& cfg);

// True when `run_dir` holds the summary of a run that ran to its end.
bool is_finished_run(const std::string& run_dir);

// Config keys whose values differ between `saved` and `now`, among those
// that change what is trained (all but logging, threads, prefetch,
// checkpoint cadence, evaluation and the run's location).
std::vector<std::string> changed_training_keys(const Config& saved, const Config& now);

}  // namespace gps
