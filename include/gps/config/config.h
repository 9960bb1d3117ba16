// The run configuration: the structs of the modules (each module's header
// holds its struct, defaults and checks: gps/prior/prior_config.h, ...), the
// run's own train.* keys, and one schema that lists every key with its type,
// default, allowed values, help text and whether it changes training. YAML
// files and `key.sub=value` overrides are applied through the schema, so an
// unknown key, a wrong type or an out-of-range value is an error naming the key.
#pragma once

#include "gps/augment/augment_config.h"
#include "gps/data/registry.h"
#include "gps/eval/eval_config.h"
#include "gps/methods/method_config.h"
#include "gps/models/model_config.h"
#include "gps/neighbors/neighbor_config.h"
#include "gps/optim/optim_config.h"
#include "gps/prior/prior_config.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gps {

// The train.* keys: the run itself (seed, device, precision, where it writes,
// checkpoints, the NaN policy). Used by train/ and experiment/.
struct TrainConfig {
  int64_t seed = 0;
  int64_t threads = 0;          // 0 = all cores
  std::string device = "auto";  // auto (CUDA when present) | cpu | cuda | cuda:N
  std::string precision = "fp32";  // fp32 | bf16 (autocast: convolutions and matmuls in bf16, losses in fp32) | auto
  bool channels_last = false;   // NHWC memory format for weights and views (worth it for wide nets in bf16)
  std::string out_dir = "runs";
  std::string name;             // run folder name ("" = <method>-<plain|gps>-<time>)
  int64_t log_every = 20;       // steps between metric lines
  bool online_probe = true;     // online linear classifier on detached features
  bool progress = true;         // progress line on stderr
  std::string prefetch = "auto";  // prepare the next batch on worker threads while the step computes: auto (on for
                                 // CUDA, off on the CPU, where it costs 7% on 2 cores) | true | false
  int64_t loader_threads = 0;    // threads that prepare a prefetched batch (0 = auto: 1 on the CPU; on CUDA every
                                 // core of this process but one)
  bool deterministic = false;    // CUDA: deterministic cuDNN/cuBLAS algorithms, no autotuning (bit-identical resume;
                                 // slower). The CPU is deterministic for a fixed thread count either way.
  bool tf32 = false;             // CUDA: let fp32 convolutions and matmuls use TF32 tensor cores (faster, about 3
                                 // decimal digits); off: fp32 means fp32. No effect on the CPU or in bf16 layers.
  int64_t checkpoint_every_epochs = 1;  // periodic checkpoint at the end of every N epochs (0 = off)
  int64_t checkpoint_every_steps = 0;   // and/or every N steps (0 = off)
  int64_t keep_checkpoints = 2;         // periodic checkpoints kept (the newest)
  std::string nan_policy = "stop";      // stop | rollback: on a non-finite loss
  double nan_lr_factor = 0.5;           // rollback: lr multiplied by this after each rollback
  int64_t nan_max_rollbacks = 3;        // rollback: give up (stop) after this many
};

struct Config {
  DataConfig data;
  bool gps = true;              // false: plain SSL (self-only table, same code path)
  PriorConfig prior;
  NeighborConfig neighbors;
  AugmentConfig augment;
  ModelConfig model;
  MethodConfig method;
  OptimConfig optim;
  TrainConfig train;
  EvalConfig eval;

  // Sets one key from its text form ("true", "0.1", "pixels"). Throws
  // gps::Error naming the key for an unknown key, a wrong type or a value
  // outside the allowed range/choices.
  void set(const std::string& key, const std::string& value);
  // Applies a YAML file (nested maps, dotted keys allowed); errors name the file and key.
  void merge_yaml_file(const std::string& path);
  void merge_yaml_text(const std::string& text, const std::string& what);
  // Applies "key=value" overrides in order.
  void apply_overrides(const std::vector<std::string>& overrides);
  // Cross-field checks (contradictory options): every module's validate(),
  // then the checks across modules; throws gps::Error.
  void validate() const;
  // The resolved configuration as YAML, every key included.
  std::string to_yaml() const;
  // Value of a key as text.
  std::string get(const std::string& key) const;
};

// "key=value" -> {key, value}; throws gps::Error naming the override when
// there is no '=' or no key. The one parser of command-line overrides
// (configs here, experiment grids in experiment/grid.cpp).
std::pair<std::string, std::string> split_override(const std::string& override_text);

// One row of the schema, for --help, docs and resume. `training`: the key
// changes what a run computes, so a resumed run must keep it (false for where
// a run writes, how often it logs or checkpoints, devices and threads, the
// NaN policy, caches and evaluation).
struct ConfigKeyInfo {
  std::string key, type, default_value, help;
  bool training = true;
};
std::vector<ConfigKeyInfo> config_schema();

// Sets the keys of `method`'s reference recipe (methods/recipes.h); none
// for a method without one.
void apply_method_recipe(Config& c, const std::string& method);

// The run's augment keys with augment.preset=strong replaced by the preset
// of the method's reference recipe (the paper's StrongAug for that method).
// What make_augmentation takes; the config itself keeps "strong".
AugmentConfig augment_for(const Config& c);

// Loads `path` (when not empty) then the overrides, then validates. The
// method's reference recipe comes first: the method named by the file or an
// override brings its defaults, and the file and overrides win over them.
Config load_config(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace gps
