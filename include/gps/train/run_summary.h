// summary.json: what a run reports when it ends (or is interrupted). One
// struct, one JSON writer, one reader; train() writes it, `gps train`
// prints it, experiment/ tabulates it and Python reads it through
// gps_ssl.read_run.
#pragma once

#include "gps/eval/evaluate.h"
#include "gps/neighbors/table_cache.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace gps {

struct RunSummary {
  std::string method;            // method.name
  bool gps = false;              // GPS pairs (false: plain SSL, the self table)
  std::string device, precision;
  bool channels_last = false;
  int64_t steps = 0;             // optimiser steps done
  bool interrupted = false;      // stopped early by SIGINT/SIGTERM (checkpoint written, no evaluation)
  double train_seconds = 0;      // optimisation loop only
  double images_per_second = 0;  // anchor images (each gives two views) per second
  double data_wait_seconds = 0;  // of train_seconds, the loop waited for its next batch (augmentation behind)
  int64_t prefetch = 0;          // prefetch worker threads (0: none)
  double final_loss = 0;
  // The online linear probe (train.online_probe), in % (-1: none): its
  // running accuracy on the last epoch's training views, and its accuracy on
  // the held-out test images at the end of training (with eval.enabled).
  double online_probe_train_top1 = -1;
  double online_probe_test_top1 = -1;
  TableInfo table;
  bool cuda = false;             // a CUDA run: gpu_peak_* were measured
  int64_t gpu_peak_allocated = 0, gpu_peak_reserved = 0;  // bytes (gps/core/device.h)
  EvalResult eval;               // eval.done false: not evaluated
  nlohmann::json budget;         // Budget::info() (null: no optim.budget_minutes)
  double eval_seconds = -1;      // with a budget: the final evaluation's seconds (-1: not recorded)
  double run_seconds = -1;       // the whole run, final evaluation included (-1: an older file)

  // summary.json's object: gpu_memory_mib only for a CUDA run, eval only
  // when evaluated, budget and eval_seconds only under a budget.
  nlohmann::json to_json() const;
  // The inverse of to_json. Keys an older gps did not write keep their
  // defaults; a value of the wrong type throws gps::Error naming `file`.
  static RunSummary from_json(const nlohmann::json& j, const std::string& file);
};

// Reads `path` (a summary.json). Throws gps::Error naming it when it is
// missing, not JSON or holds a value of the wrong type.
RunSummary read_run_summary(const std::string& path);

// The summary of run directory `run_dir`, or nothing while the run is going
// (no summary.json yet). A damaged file throws as read_run_summary.
std::optional<RunSummary> find_run_summary(const std::string& run_dir);

}  // namespace gps
