#include "config_fields.h"

#include "gps/core/check.h"
#include "gps/core/suggest.h"
#include "gps/methods/method.h"
#include "gps/models/backbone.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace gps::config_detail {

namespace {

// A key that does not change what a run computes (where it writes, how often
// it logs or checkpoints, on which device or how many threads, what happens
// on a NaN, evaluation): it may differ when a run is resumed.
Field run_only(Field f) {
  f.training = false;
  return f;
}

std::string fmt_double(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

int64_t parse_int(const std::string& key, const std::string& v) {
  size_t pos = 0;
  long long x = 0;
  try {
    x = std::stoll(v, &pos);
  } catch (...) {
    pos = 0;
  }
  GPS_CHECK(pos == v.size() && !v.empty(), key, ": expected an integer, got '", v, "'");
  return x;
}

double parse_double(const std::string& key, const std::string& v) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  GPS_CHECK(!v.empty() && end == v.c_str() + v.size() && std::isfinite(x), key, ": expected a number, got '", v, "'");
  return x;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "True" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "False" || v == "no" || v == "off" || v == "0") return false;
  GPS_FAIL(key, ": expected true or false, got '", v, "'");
}

Field int_field(std::string key, std::function<int64_t&(Config&)> ref, int64_t lo, int64_t hi, std::string help) {
  Field f{key, "int", help, {}, {}};
  f.set = [=](Config& c, const std::string& v) {
    const int64_t x = parse_int(key, v);
    GPS_CHECK(x >= lo && x <= hi, key, ": ", x, " out of range [", lo, ", ", hi, "]");
    ref(c) = x;
  };
  f.get = [=](const Config& c) { return std::to_string(ref(const_cast<Config&>(c))); };
  return f;
}

Field num_field(std::string key, std::function<double&(Config&)> ref, double lo, double hi, std::string help) {
  Field f{key, "float", help, {}, {}};
  f.set = [=](Config& c, const std::string& v) {
    const double x = parse_double(key, v);
    GPS_CHECK(x >= lo && x <= hi, key, ": ", x, " out of range [", lo, ", ", hi, "]");
    ref(c) = x;
  };
  f.get = [=](const Config& c) { return fmt_double(ref(const_cast<Config&>(c))); };
  return f;
}

Field bool_field(std::string key, std::function<bool&(Config&)> ref, std::string help) {
  Field f{key, "bool", help, {}, {}};
  f.set = [=](Config& c, const std::string& v) { ref(c) = parse_bool(key, v); };
  f.get = [=](const Config& c) { return ref(const_cast<Config&>(c)) ? "true" : "false"; };
  return f;
}

// choices empty = any string.
Field str_field(std::string key, std::function<std::string&(Config&)> ref, std::vector<std::string> choices,
                std::string help) {
  std::string type = "string";
  if (!choices.empty()) {
    type.clear();
    for (size_t i = 0; i < choices.size(); ++i) type += (i ? "|" : "") + choices[i];
  }
  Field f{key, type, help, {}, {}};
  f.set = [=](Config& c, const std::string& v) {
    if (!choices.empty()) {
      bool ok = false;
      for (auto& ch : choices) ok |= ch == v;
      GPS_CHECK(ok, key, ": '", v, "' is not one of: ", type, did_you_mean(v, choices));
    }
    ref(c) = v;
  };
  f.get = [=](const Config& c) { return ref(const_cast<Config&>(c)); };
  return f;
}

// A name looked up in a registry (method.name, model.arch): checked against
// the names registered when the key is set, so that a method or backbone
// registered by a program (register_method, register_backbone) is accepted.
Field registry_field(std::string key, std::function<std::string&(Config&)> ref,
                     std::vector<std::string> (*names)(), std::string help) {
  std::string type;
  for (const auto& n : names()) type += (type.empty() ? "" : "|") + n;
  Field f{key, type, help, {}, {}};
  f.set = [=](Config& c, const std::string& v) {
    const auto now = names();
    if (std::find(now.begin(), now.end(), v) == now.end()) {
      std::string list;
      for (const auto& n : now) list += (list.empty() ? "" : "|") + n;
      GPS_FAIL(key, ": '", v, "' is not one of: ", list, did_you_mean(v, now));
    }
    ref(c) = v;
  };
  f.get = [=](const Config& c) { return ref(const_cast<Config&>(c)); };
  return f;
}

constexpr int64_t kBig = std::numeric_limits<int32_t>::max();

// KEY(data.subset): the key "data.subset" bound to Config::data.subset.
// KEY_AT(key, member): a key bound to a member of another name.
#define KEY_AT(key, expr) key, [](Config& c) -> auto& { return c.expr; }
#define KEY(expr) KEY_AT(#expr, expr)

// The data.* keys and gps.
std::vector<Field> data_fields() {
  return {
    str_field(KEY(data.name),
              {"fashion-mnist", "mnist", "cifar10", "cifar100", "medmnist", "folder", "aircraft", "rhid", "store"},
              "dataset (folder: one subfolder per class, or a flat unlabeled folder; store: image stores written "
              "by gps data pack)"),
    str_field(KEY(data.root), {},
              "folder holding the dataset files (medmnist: the .npz file, or its folder with data.medmnist_flag; "
              "store: the folder of <split>.store files)"),
    str_field(KEY(data.train_split), {},
              "split trained on (aircraft: train or trainval)"),
    str_field(KEY(data.test_split), {},
              "split evaluated on (medmnist: val or test; aircraft: val or test; rhid: D_SS, D_SU, D_UU or D_?\?)"),
    int_field(KEY(data.subset), 0, kBig, "stratified subset of train images (0 = all)"),
    int_field(KEY(data.test_subset), 0, kBig, "stratified subset of test images (0 = all)"),
    int_field(KEY(data.seed), 0, kBig, "seed of the subset draws"),
    str_field(KEY(data.medmnist_flag), {},
              "medmnist: dataset file <data.root>/<flag>.npz (pathmnist, tissuemnist, pathmnist_64, ...)"),
    str_field(KEY(data.cifar100_labels), {"fine", "coarse"},
              "cifar100: fine (100 classes) or coarse (20 superclasses) labels"),
    int_field(KEY(data.image_size), 0, 4096,
              "folder, aircraft, rhid: side of the decoded square images (0 = 224)"),
    int_field(KEY(data.channels), 0, 3, "folder, aircraft, rhid: 1 gray or 3 RGB (0 = 3)"),
    str_field(KEY(data.resize), {"stretch", "center-crop", "pad"},
              "folder, aircraft, rhid: stretch to the square; shorter side to image_size then centre crop; "
              "longer side to image_size then black borders"),
    str_field(KEY(data.on_bad_image), {"fail", "skip"},
              "folder, aircraft, rhid: an undecodable image file stops the run, or is left out with a report"),
    run_only(str_field(KEY(data.cache_dir), {},
              "folder, aircraft, rhid: where decoded images are cached for the next run (empty = no cache)")),
    str_field(KEY(data.order), {"random", "quasi-random"},
              "order of anchors in an epoch: a random permutation, or chunks of the store in random order with "
              "the rows of each data.order_window chunks shuffled together (reads a few chunks at a time)"),
    int_field(KEY(data.order_window), 1, kBig, "quasi-random: chunks whose rows are shuffled together"),
    bool_field(KEY(gps), "true: GPS positives from the neighbour table; false: plain SSL (self table)"),
  };
}

// The prior.* keys.
std::vector<Field> prior_fields() {
  return {
    str_field(KEY(prior.kind), {"pixels", "npy", "torchscript", "onnx", "run", "autoencoder", "vae"},
              "prior embedding g: normalised pixels, precomputed .npy, a TorchScript or ONNX model, an earlier run's "
              "backbone, or an autoencoder / VAE trained on the train images"),
    int_field(KEY(prior.pca_dim), 0, 100000, "PCA of the prior's embeddings, fitted on train (0 = none)"),
    str_field(KEY(prior.path), {}, "npy: train embeddings [N, D] float32; torchscript, onnx: model file; run: run directory"),
    str_field(KEY(prior.test_path), {}, "npy: test embeddings (optional, for the prior's own evaluation)"),
    str_field(KEY(prior.sidecar), {},
              "torchscript, onnx: JSON with input size, channels, mean/std (empty = <prior.path>.json when present; none = ignore)"),
    int_field(KEY(prior.input_size), 0, 4096,
              "torchscript, onnx: resize images to this size (0 = the sidecar's, else keep); autoencoder, vae: input size (0 = 32)"),
    int_field(KEY(prior.in_channels), 0, 3,
              "torchscript, onnx: input channels (0 = the sidecar's, else as data; 3 replicates gray)"),
    str_field(KEY(prior.normalize), {"auto", "dataset", "imagenet", "none"},
              "torchscript, onnx: input normalisation (auto = the sidecar's mean/std, else dataset)"),
    run_only(str_field(KEY(prior.device), {},
              "torchscript, run, autoencoder, vae: where the prior's network runs: auto (CUDA when present, else "
              "cpu) | cpu | cuda | cuda:N")),
    int_field(KEY(prior.batch_size), 1, 1 << 20, "images per forward pass when embedding"),
    run_only(bool_field(KEY(prior.cache),
               "torchscript, onnx, run: reuse embeddings saved under <train.out_dir>/cache (keyed by model file, data, "
               "preprocessing); autoencoder, vae: reuse the model trained on the same data and settings")),
    int_field(KEY(prior.latent_dim), 1, 65536, "autoencoder, vae: embedding size"),
    int_field(KEY(prior.epochs), 1, 100000, "autoencoder, vae: training epochs"),
    num_field(KEY(prior.lr), 1e-8, 10, "autoencoder, vae: Adam learning rate"),
    num_field(KEY(prior.beta), 0, 1e6, "vae: weight of the KL term"),
    int_field(KEY(prior.seed), 0, kBig, "autoencoder, vae: initialisation and shuffling seed"),
  };
}

// The neighbors.* keys.
std::vector<Field> neighbors_fields() {
  return {
    int_field(KEY_AT("neighbors.k", neighbors.rules.k), 1, 100000, "candidates per image"),
    bool_field(KEY_AT("neighbors.exclude_self", neighbors.rules.exclude_self),
               "false: candidates are the image and its k-1 nearest; true: its k nearest others"),
    str_field(KEY_AT("neighbors.metric", neighbors.search.metric), {"l2", "cosine"}, "distance in prior space"),
    run_only(bool_field(KEY(neighbors.cache), "reuse a saved table with the same fingerprint")),
    int_field(KEY(neighbors.refresh_every), 0, 100000,
              "rebuild the table from the model being trained every R epochs (reference reload_freq; 0 = never)"),
    str_field(KEY(neighbors.refresh_features), {"backbone", "projector"},
              "features of refreshed tables"),
    str_field(KEY_AT("neighbors.backend", neighbors.search.backend), {"faiss", "torch"},
              "search backend: FAISS, or an exact LibTorch matmul + top-k on the embeddings' device"),
    run_only(str_field(KEY_AT("neighbors.device", neighbors.search.device), {},
              "torch backend: where the search runs: auto (CUDA when present, else cpu) | cpu | cuda | cuda:N")),
    str_field(KEY_AT("neighbors.index", neighbors.search.index), {"exact", "ivf", "hnsw", "auto"},
              "FAISS index: exact, IVF-Flat, HNSW-Flat, or auto (exact below neighbors.approx_threshold images, else ivf)"),
    int_field(KEY_AT("neighbors.approx_threshold", neighbors.search.approx_threshold), 0, kBig,
              "index=auto: images from which the approximate index is used"),
    int_field(KEY_AT("neighbors.recall_sample", neighbors.search.recall_sample), 1, kBig,
              "index=auto at scale: queries whose approximate neighbours are checked against exact search"),
    num_field(KEY_AT("neighbors.min_recall", neighbors.search.min_recall), 0, 1,
              "index=auto at scale: recall@k the approximate index must reach (else more probes, then exact)"),
    int_field(KEY_AT("neighbors.nlist", neighbors.search.nlist), 0, kBig, "ivf: inverted lists (0 = 4 sqrt(N))"),
    int_field(KEY_AT("neighbors.nprobe", neighbors.search.nprobe), 1, kBig,
              "ivf: lists visited per query (more = higher recall, slower)"),
    int_field(KEY_AT("neighbors.ivf_train_size", neighbors.search.ivf_train_size), 0, kBig,
              "ivf: images in the k-means training sample (0 = min(N, 40 nlist))"),
    int_field(KEY_AT("neighbors.hnsw_m", neighbors.search.hnsw_m), 2, 256, "hnsw: links per node"),
    int_field(KEY_AT("neighbors.ef_construction", neighbors.search.ef_construction), 1, 100000,
              "hnsw: beam width while building"),
    int_field(KEY_AT("neighbors.ef_search", neighbors.search.ef_search), 1, 100000,
              "hnsw: beam width while searching (raised to the search width when smaller)"),
    int_field(KEY_AT("neighbors.search_batch", neighbors.search.batch_size), 1, kBig,
              "queries per search call (bounds temporary memory)"),
    int_field(KEY_AT("neighbors.seed", neighbors.search.seed), 0, kBig, "ivf: seed of the training sample and k-means"),
    str_field(KEY_AT("neighbors.tau_mode", neighbors.rules.tau_mode), {"fixed", "adaptive", "adaptive_row"},
              "distance ball: fixed neighbors.tau; adaptive = one tau from all rows' first tau_window distances "
              "(reference); adaptive_row = a tau per row"),
    num_field(KEY_AT("neighbors.tau", neighbors.rules.tau), -1, 1e30,
              "tau_mode=fixed: keep candidates with squared distance <= tau (< 0 = no ball); empty ball = self"),
    num_field(KEY_AT("neighbors.tau_std", neighbors.rules.tau_std), -100, 100,
              "adaptive: tau = mean + tau_std * std (reference mean+std = 1, mean = 0, mean-std = -1)"),
    int_field(KEY_AT("neighbors.tau_window", neighbors.rules.tau_window), 1, 100000,
              "adaptive: nearest other images whose distances give mean and std (reference threshold_k)"),
    bool_field(KEY_AT("neighbors.mutual", neighbors.rules.mutual),
               "keep j among i's candidates only when i is among j's (mutual kNN)"),
    str_field(KEY(neighbors.combine), {"none", "intersection", "union"},
              "combine the candidates of the main prior with neighbors.extra_priors"),
    str_field(KEY(neighbors.extra_priors), {},
              "comma-separated .npy train embeddings [N, D] float32 combined with the main prior"),
  };
}

// The augment.* keys.
std::vector<Field> augment_fields() {
  return {
    str_field(KEY(augment.preset),
              {"none", "weak", "weak-rrc", "strong", "symmetric", "symmetric-weak", "asymmetric", "vicreg", "custom"},
              "augmentation preset: weak = flip only (the paper's RHFlipAug); weak-rrc = crop 0.08-1 + flip; "
              "strong = the paper's StrongAug, the preset of the method's reference recipe (see the table below); "
              "symmetric (SimCLR, SwAV); symmetric-weak (SimSiam); asymmetric (BYOL-style views, view 2 "
              "solarized); vicreg; custom = augment.view1/view2"),
    str_field(KEY(augment.view1), {},
              "custom preset, view 1: ops among crop(min_scale,max_scale,min_ratio,max_ratio) "
              "jitter(p,brightness,contrast,saturation,hue) gray(p) blur(p,sigma_min,sigma_max) "
              "solarize(p,threshold) equalize(p) flip(p); applied in that order"),
    str_field(KEY(augment.view2), {}, "custom preset, view 2 (empty = as view 1)"),
    num_field(KEY(augment.flip_p), 0, 1, "horizontal-flip probability (all but none)"),
    int_field(KEY(augment.crop_size), 0, 4096,
              "output size of the views in pixels (0 = the input size)"),
    num_field(KEY(augment.min_scale), 0, 1,
              "smallest crop area fraction of the random resized crop (0 = preset's: 0.08, vicreg 0.2)"),
    num_field(KEY(augment.max_scale), 0, 1,
              "largest crop area fraction of the random resized crop (0 = preset's: 1.0)"),
    int_field(KEY(augment.local_crops), 0, 64,
              "multi-crop: local views after the 2 global ones, alternately of the anchor and the positive "
              "(dino, swav; 0 = two views)"),
    int_field(KEY(augment.local_size), 0, 4096, "multi-crop: local view size in pixels (0 = 3/7 of the global size)"),
    num_field(KEY(augment.local_min_scale), 0, 1, "multi-crop: smallest crop area fraction of a local view"),
    num_field(KEY(augment.local_scale), 0, 1, "multi-crop: largest crop area fraction of a local view"),
  };
}

// The model.* keys.
std::vector<Field> model_fields() {
  return {
    registry_field(KEY(model.arch), backbone_names,
              "backbone: resnet18 | resnet50 | vit_tiny | vit_small, or one registered with register_backbone "
              "(models/backbone.h); the "
              "small stem keeps 28/32 px images"),
    int_field(KEY(model.width), 1, 1024, "channels of the first stage (64 = torchvision)"),
    bool_field(KEY(model.small_stem), "3x3 stride-1 stem without max-pool"),
    int_field(KEY(model.stem_padding), 0, 3, "padding of the small stem"),
    str_field(KEY(model.init_from), {},
              "start from torchvision-named backbone weights (.npz, e.g. from gps export or a converted torchvision model)"),
    int_field(KEY(model.patch_size), 1, 1024, "vit_*: side of the square patches (4 for 28/32 px, 16 for 224 px)"),
    int_field(KEY(model.image_size), 1, 65536,
              "vit_*: image side the position embeddings are made for; other sizes (local crops) interpolate them"),
  };
}

// The method.* keys.
std::vector<Field> method_fields() {
  return {
    registry_field(KEY(method.name), method_names,
              "SSL method"),
    num_field(KEY(method.temperature), 1e-4, 100, "NT-Xent / InfoNCE temperature (simclr, nnclr, mocov3); swav: softmax temperature"),
    int_field(KEY(method.proj_hidden_dim), 1, 65536, "projector hidden width (reference: 2048; byol 4096)"),
    int_field(KEY(method.proj_output_dim), 1, 65536, "projector output width (reference: 256; barlow_twins, vicreg 2048)"),
    int_field(KEY(method.pred_hidden_dim), 1, 65536,
              "predictor hidden width (byol, nnclr, mocov3; simsiam's bottleneck)"),
    num_field(KEY(method.tau_base), 0, 1,
              "byol, mocov3, dino: EMA rate of the target at step 0, cosine-increased to 1"),
    int_field(KEY(method.queue_size), 0, 1 << 24,
              "nnclr: rows of the FIFO support set (a multiple of optim.batch_size); swav: rows of recent "
              "projections per global view that join the Sinkhorn-Knopp batch (0 = no queue)"),
    num_field(KEY(method.barlow_lambda), 0, 100,
              "barlow_twins: weight of the off-diagonal term"),
    num_field(KEY(method.barlow_scale), 1e-6, 1000,
              "barlow_twins: factor on the whole loss"),
    num_field(KEY(method.vicreg_sim_weight), 0, 1000,
              "vicreg: weight of the invariance (MSE) term"),
    num_field(KEY(method.vicreg_var_weight), 0, 1000,
              "vicreg: weight of the variance (std hinge) term"),
    num_field(KEY(method.vicreg_cov_weight), 0, 1000,
              "vicreg: weight of the covariance term"),
    str_field(KEY(method.vicreg_variance), {"sum", "mean"},
              "vicreg: the two branches' variance terms summed (solo-learn, the reference) or averaged (the "
              "VICReg authors' code, lightly): at the same weights, mean halves the variance term"),
    int_field(KEY(method.num_prototypes), 1, 1 << 20, "dino, swav: prototypes (output width of the head)"),
    num_field(KEY(method.student_temp), 1e-4, 100, "dino: student temperature"),
    num_field(KEY(method.teacher_temp), 1e-4, 100, "dino: teacher temperature after the warm-up"),
    num_field(KEY(method.warmup_teacher_temp), 1e-4, 100, "dino: teacher temperature at epoch 0"),
    int_field(KEY(method.warmup_teacher_temp_epochs), 0, 100000,
              "dino: epochs of the teacher temperature's linear warm-up (0 = none)"),
    num_field(KEY(method.center_momentum), 0, 1, "dino: EMA rate of the teacher's centre"),
    int_field(KEY(method.freeze_last_layer), 0, 100000, "dino, swav: epochs during which the prototypes are frozen"),
    bool_field(KEY(method.use_bn_in_head),
               "dino: batch norm after the head's hidden layers (DINO's use_bn_in_head; for ResNets)"),
    int_field(KEY(method.sk_iters), 1, 1000, "swav: Sinkhorn-Knopp iterations"),
    num_field(KEY(method.sk_epsilon), 1e-4, 10, "swav: entropy regularisation of Sinkhorn-Knopp"),
    int_field(KEY(method.epoch_queue_starts), 0, 100000,
              "swav: first epoch whose Sinkhorn-Knopp batch includes the queue (method.queue_size > 0)"),
  };
}

// The optim.* keys.
std::vector<Field> optim_fields() {
  return {
    str_field(KEY(optim.name), {"sgd", "lars", "adamw"}, "optimiser (momentum SGD, LARS, or AdamW for ViTs)"),
    int_field(KEY(optim.batch_size), 2, 1 << 20, "images per step (anchors)"),
    int_field(KEY(optim.epochs), 1, 100000, "training epochs (with optim.budget_minutes: the most)"),
    num_field(KEY(optim.budget_minutes), 0, 1e6,
              "wall-clock budget of the whole run in minutes (0 = off): the steps are set from the speed of the "
              "first steps, then again at every epoch end, so that data, prior, table, training and the final "
              "evaluation fit"),
    num_field(KEY(optim.lr), 0, 100, "base learning rate"),
    bool_field(KEY(optim.scale_lr), "multiply lr by batch_size/256"),
    num_field(KEY(optim.momentum), 0, 0.9999, "sgd, lars: momentum"),
    num_field(KEY(optim.weight_decay), 0, 1, "weight decay (weights of >= 2 dims)"),
    num_field(KEY(optim.weight_decay_end), -1, 1,
              "weight decay at the last step, reached by a cosine from optim.weight_decay (DINO's schedule for "
              "ViTs; < 0 = constant)"),
    num_field(KEY(optim.warmup_epochs), 0, 100000, "linear warm-up epochs"),
    num_field(KEY(optim.warmup_start_lr), 0, 100, "lr at step 0"),
    num_field(KEY(optim.min_lr), 0, 100, "lr at the end of the cosine"),
    num_field(KEY(optim.classifier_lr), 0, 100, "online probe lr (scaled like lr)"),
    num_field(KEY(optim.eta), 1e-6, 10, "lars: trust coefficient"),
    bool_field(KEY(optim.exclude_bias_n_norm),
               "lars: 1-D parameters (biases, norms) get plain momentum SGD, no trust ratio"),
  };
}

// The train.* keys.
std::vector<Field> train_fields() {
  return {
    int_field(KEY(train.seed), 0, kBig, "seed of weights, sampling and augmentation"),
    run_only(int_field(KEY(train.threads), 0, 1024, "CPU threads (0 = all cores)")),
    run_only(str_field(KEY(train.device), {},
              "where the model trains: auto (CUDA when present, else cpu) | cpu | cuda | cuda:N")),
    str_field(KEY(train.precision), {"fp32", "bf16", "fp64", "auto"},
              "bf16: autocast (convolutions and matmuls in bfloat16; losses, normalisations, softmax in float32); "
              "fp64: everything in float64, for numerical checks (runs agree to ~1e-12 whatever the kernels; slow); "
              "auto: bf16 where the device runs it natively (AMX / AVX512-BF16 CPU, GPU of compute capability >= 8.0)"),
    bool_field(KEY(train.channels_last),
               "channels-last (NHWC) weights and views; pays off in bf16 for wide networks"),
    run_only(str_field(KEY(train.out_dir), {}, "parent folder of run directories")),
    run_only(str_field(KEY(train.name), {}, "run directory name (empty = automatic)")),
    run_only(int_field(KEY(train.log_every), 1, kBig, "steps between metric records")),
    bool_field(KEY(train.online_probe), "train an online linear probe (needs labels)"),
    run_only(bool_field(KEY(train.progress), "progress line on stderr")),
    run_only(str_field(KEY(train.prefetch), {"auto", "true", "false"},
              "gather and augment the next batch on worker threads while the step computes (auto: on for CUDA, off on "
              "the CPU)")),
    run_only(int_field(KEY(train.loader_threads), 0, 1024,
              "threads that prepare a prefetched batch (0 = auto: 1 on the CPU, every core but one on CUDA)")),
    run_only(bool_field(KEY(train.deterministic),
               "CUDA: deterministic cuDNN/cuBLAS algorithms and no cuDNN autotuning (bit-identical resume; slower)")),
    bool_field(KEY(train.tf32),
               "CUDA: fp32 convolutions and matmuls on TF32 tensor cores (faster, 10-bit mantissa inputs); "
               "off = true fp32 (torch's default allows TF32 in cuDNN)"),
    run_only(int_field(KEY(train.checkpoint_every_epochs), 0, kBig,
              "write a resumable checkpoint every N epochs (0 = off)")),
    run_only(int_field(KEY(train.checkpoint_every_steps), 0, kBig,
              "write a resumable checkpoint every N steps (0 = off)")),
    run_only(int_field(KEY(train.keep_checkpoints), 1, 1000000, "periodic checkpoints kept")),
    run_only(str_field(KEY(train.nan_policy), {"stop", "rollback"},
              "on a non-finite loss: stop with a message, or roll back to the last checkpoint with a lower lr")),
    run_only(num_field(KEY(train.nan_lr_factor), 1e-6, 1, "rollback: lr factor per rollback")),
    run_only(int_field(KEY(train.nan_max_rollbacks), 0, 1000, "rollback: most rollbacks before stopping")),
  };
}

// The eval.* keys.
std::vector<Field> eval_fields() {
  return {
    run_only(bool_field(KEY(eval.enabled), "linear probe and kNN on the test split after training")),
    run_only(int_field(KEY(eval.knn_k), 1, 100000, "neighbours of the kNN classifier")),
    run_only(num_field(KEY(eval.knn_temperature), 1e-4, 100, "kNN weight temperature")),
    run_only(str_field(KEY(eval.linear), {"sgd-grid", "adam"},
              "the final linear probe: sgd-grid = the paper's (SGD, momentum 0.9, raw features, the lr of "
              "eval.sgd_lr_grid with the best accuracy on a validation split of train, refit on all train); "
              "adam = Adam on standardised features (eval.linear_lr / linear_weight_decay, or linear_select=val)")),
    run_only(str_field(KEY(eval.sgd_lr_grid), {}, "linear=sgd-grid: classifier lrs, comma-separated (the paper's)")),
    run_only(int_field(KEY(eval.linear_epochs), 1, 100000, "linear probe epochs")),
    run_only(num_field(KEY(eval.linear_lr), 0, 100, "linear probe lr (linear=adam)")),
    run_only(num_field(KEY(eval.linear_weight_decay), 0, 1, "linear probe weight decay")),
    run_only(int_field(KEY(eval.linear_batch_size), 1, 1 << 20, "linear probe batch")),
    run_only(str_field(KEY(eval.linear_select), {"none", "val"},
              "linear probe hyperparameters: none = eval.linear_lr / linear_weight_decay; val = the best pair of "
              "linear_lr_grid x linear_wd_grid on a validation split of train, then refit on all train")),
    run_only(num_field(KEY(eval.val_fraction), 1e-6, 0.999999,
              "sgd-grid or linear_select=val: share of each train class held out for validation")),
    run_only(str_field(KEY(eval.linear_lr_grid), {},
              "linear_select=val: candidate lrs, comma-separated")),
    run_only(str_field(KEY(eval.linear_wd_grid), {},
              "linear_select=val: candidate weight decays, comma-separated")),
    run_only(str_field(KEY(eval.knn_metric), {"cosine", "l2"},
              "similarity of the kNN classifier and of Recall@k")),
    run_only(int_field(KEY(eval.knn_every), 0, kBig,
              "kNN accuracy on the test split every N epochs during training, logged to metrics.jsonl (0 = off)")),
    run_only(str_field(KEY(eval.features), {"backbone", "projector"},
              "features of the final linear probe and kNN (and of `gps eval --run`): the backbone's, or the "
              "projector's output on them"))
  };
}

#undef KEY
#undef KEY_AT

}  // namespace

const std::vector<Field>& fields() {
  static const std::vector<Field> f = [] {
    std::vector<Field> all;
    for (auto& x : data_fields()) all.push_back(std::move(x));
    for (auto& x : prior_fields()) all.push_back(std::move(x));
    for (auto& x : neighbors_fields()) all.push_back(std::move(x));
    for (auto& x : augment_fields()) all.push_back(std::move(x));
    for (auto& x : model_fields()) all.push_back(std::move(x));
    for (auto& x : method_fields()) all.push_back(std::move(x));
    for (auto& x : optim_fields()) all.push_back(std::move(x));
    for (auto& x : train_fields()) all.push_back(std::move(x));
    for (auto& x : eval_fields()) all.push_back(std::move(x));
    return all;
  }();
  return f;
}

const Field* find_field(const std::string& key) {
  for (auto& f : fields())
    if (f.key == key) return &f;
  return nullptr;
}

}  // namespace gps::config_detail
