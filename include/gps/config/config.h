// The run configuration: one struct per module, one schema that lists every
// key with its type, default, allowed values and help text. YAML files and
// `key.sub=value` overrides are applied through the schema, so an unknown
// key, a wrong type or an out-of-range value is an error naming the key.
#pragma once

#include "gps/data/registry.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gps {

struct PriorConfig {
  std::string kind = "pixels";  // pixels | npy | torchscript | onnx | run | autoencoder | vae
  int64_t pca_dim = 0;          // PCA of the embeddings to this many dimensions, fitted on train (0 = none)
  std::string path;             // npy: train embeddings; torchscript: model file; run: run directory
  std::string test_path;        // npy: test embeddings (optional; for the prior's own evaluation)
  // torchscript: settings left at 0/auto come from the sidecar <path>.json
  // written by scripts/export_prior.py; explicit values win over it.
  std::string sidecar;          // torchscript: "" = <path>.json when present; none = ignore; or a file
  int64_t input_size = 0;       // torchscript: resize images to this square size (0 = sidecar's, else keep)
  int64_t in_channels = 0;      // torchscript: channels the model expects (0 = sidecar's, else as the data; 3 replicates gray)
  std::string normalize = "auto";  // torchscript: auto (sidecar mean/std, else dataset) | dataset | imagenet | none
  int64_t batch_size = 256;     // images per forward pass when embedding
  std::string device = "auto";  // torchscript, run, autoencoder, vae: where the model runs (auto = CUDA when present)
  bool cache = true;            // torchscript, onnx, run: reuse embeddings saved under <train.out_dir>/cache;
                                // autoencoder, vae: reuse the trained model saved there
  // autoencoder | vae: a convolutional (variational) autoencoder trained on
  // the unlabeled train images (input resized to input_size, 0 = 32).
  int64_t latent_dim = 64;      // embedding size (the VAE's posterior mean)
  int64_t epochs = 20;          // training epochs
  double lr = 1e-3;             // Adam learning rate
  double beta = 1.0;            // vae: weight of the KL term
  int64_t seed = 0;             // initialisation and shuffling
};

struct NeighborConfig {
  int64_t k = 4;                // candidates per image (paper's num_nns_choice)
  bool exclude_self = false;    // false: candidates {i, NN1..NN(k-1)}; true: k nearest others
  std::string metric = "l2";    // l2 (squared L2, the reference) | cosine
  bool cache = true;            // reuse a saved table whose fingerprint matches
  int64_t refresh_every = 0;    // rebuild the table from the model being trained every R epochs (0 = never)
  std::string refresh_features = "backbone";  // backbone | projector: the space of refreshed tables
  // Search (see gps/neighbors/knn_search.h).
  std::string backend = "faiss";  // faiss | torch (exact brute force on neighbors.device)
  std::string device = "auto";    // torch backend: auto (CUDA when present, else cpu) | cpu | cuda | cuda:N
  std::string index = "auto";     // exact | ivf | hnsw | auto (exact below approx_threshold images, else ivf)
  int64_t approx_threshold = 200000;
  int64_t nlist = 0;              // ivf: inverted lists (0 = 4 sqrt(N))
  int64_t nprobe = 16;            // ivf: lists visited per query
  int64_t ivf_train_size = 0;     // ivf: k-means training sample (0 = min(N, 40 nlist))
  int64_t hnsw_m = 32;            // hnsw: links per node
  int64_t ef_construction = 80;   // hnsw: beam width while building
  int64_t ef_search = 128;        // hnsw: beam width while searching
  int64_t search_batch = 65536;   // queries per search call
  int64_t seed = 0;               // ivf: training sample and k-means seed
  // Candidate rules (see gps/neighbors/candidate_rules.h; reference semantics section 1).
  std::string tau_mode = "fixed";  // fixed | adaptive (one tau for all rows, as the reference) | adaptive_row
  double tau = -1;                 // fixed: squared-distance ball radius; < 0 = no ball (reference nn_threshold)
  double tau_std = 1;              // adaptive: tau = mean + tau_std * std of the first tau_window distances
  int64_t tau_window = 20;         // adaptive: nearest other images the statistics use (reference threshold_k)
  bool mutual = false;             // keep j in row i only when i is among j's candidates
  std::string combine = "none";    // none | intersection | union of the candidates of several priors
  std::string extra_priors;        // comma-separated .npy train embeddings combined with the main prior
};

struct AugmentConfig {
  std::string preset = "weak";  // none | weak (RHFlipAug) | weak-rrc | strong | asymmetric | vicreg | custom
  double flip_p = 0.5;          // horizontal flip probability (every preset but none)
  int64_t crop_size = 0;        // output height = width; 0 = the input size
  double min_scale = 0;         // random-resized-crop area fraction; 0 = the preset's (0.08, vicreg 0.2)
  double max_scale = 0;         // 0 = the preset's (1.0)
  std::string view1;            // preset custom: ops of view 1, e.g. "crop(0.2) jitter(0.8,0.4,0.4,0.2,0.1) flip(0.5)"
  std::string view2;            // preset custom: ops of view 2 ("" = as view 1)
};

struct ModelConfig {
  std::string arch = "resnet18";
  int64_t width = 64;           // channels of the first stage (64 = torchvision)
  bool small_stem = true;       // 3x3 stride-1 conv stem, no max-pool (28/32 px images)
  int64_t stem_padding = 2;     // padding of the small stem (2 as in solo-learn)
  std::string init_from;        // .npz of torchvision-named backbone weights to start from ("" = random init)
};

struct MethodConfig {
  std::string name = "simclr";  // simclr | byol | nnclr | barlow_twins | vicreg
  double temperature = 0.2;     // NT-Xent temperature (SimCLR, NNCLR)
  int64_t proj_hidden_dim = 2048;  // reference: 2048 (BYOL 4096)
  int64_t proj_output_dim = 256;   // reference: 256 (Barlow Twins, VICReg 2048)
  int64_t pred_hidden_dim = 4096;  // predictor hidden width (BYOL, NNCLR)
  double tau_base = 0.99;       // BYOL: EMA rate at step 0, cosine-increased to 1
  int64_t queue_size = 65536;   // NNCLR: support-set rows, a multiple of optim.batch_size
  double barlow_lambda = 0.0051;  // Barlow Twins: weight of the off-diagonal term
  double barlow_scale = 0.1;      // Barlow Twins: factor on the whole loss
  double vicreg_sim_weight = 25.0;  // VICReg: invariance (MSE) weight
  double vicreg_var_weight = 25.0;  // VICReg: variance (hinge on std) weight
  double vicreg_cov_weight = 1.0;   // VICReg: covariance weight
};

struct OptimConfig {
  std::string name = "sgd";     // sgd (momentum) | lars
  int64_t batch_size = 256;
  int64_t epochs = 100;
  double lr = 0.4;              // base lr, multiplied by batch_size/256 when scale_lr
  bool scale_lr = true;
  double momentum = 0.9;
  double weight_decay = 1e-4;   // on weights with >= 2 dims only
  double warmup_epochs = 10;
  double warmup_start_lr = 3e-5;
  double min_lr = 0.0;
  double classifier_lr = 0.1;   // online linear probe, also scaled by batch/256
  double eta = 0.02;            // LARS trust coefficient
  bool exclude_bias_n_norm = true;  // LARS: 1-D parameters get plain momentum SGD
};

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
  int64_t checkpoint_every_epochs = 1;  // periodic checkpoint at the end of every N epochs (0 = off)
  int64_t checkpoint_every_steps = 0;   // and/or every N steps (0 = off)
  int64_t keep_checkpoints = 2;         // periodic checkpoints kept (the newest)
  std::string nan_policy = "stop";      // stop | rollback: on a non-finite loss
  double nan_lr_factor = 0.5;           // rollback: lr multiplied by this after each rollback
  int64_t nan_max_rollbacks = 3;        // rollback: give up (stop) after this many
};

struct EvalConfig {
  bool enabled = true;          // linear probe + kNN on the test split after training
  int64_t knn_k = 20;
  double knn_temperature = 0.07;
  int64_t linear_epochs = 30;
  double linear_lr = 1e-2;
  double linear_weight_decay = 1e-5;
  int64_t linear_batch_size = 256;
  std::string linear_select = "none";  // none: linear_lr / linear_weight_decay as given; val: chosen on a validation split
  double val_fraction = 0.1;           // linear_select=val: share of each train class held out
  std::string linear_lr_grid = "0.001,0.01,0.1";   // linear_select=val: candidate lrs
  std::string linear_wd_grid = "0,1e-5,1e-4";      // linear_select=val: candidate weight decays
  std::string knn_metric = "cosine";   // cosine | l2: kNN classifier and Recall@k
  int64_t knn_every = 0;               // kNN accuracy on the test split every N epochs during training (0 = off)
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
  // Cross-field checks (contradictory options); throws gps::Error.
  void validate() const;
  // The resolved configuration as YAML, every key included.
  std::string to_yaml() const;
  // Value of a key as text.
  std::string get(const std::string& key) const;
};

// Parses a comma-separated list of non-negative numbers ("1e-3,0.01,0.1");
// errors name `key`.
std::vector<double> parse_number_list(const std::string& key, const std::string& text);

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

// Loads `path` (when not empty) then the overrides, then validates.
Config load_config(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace gps
