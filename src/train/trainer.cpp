#include "gps/train/trainer.h"

#include "gps/augment/augment.h"
#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/distributed/process_group.h"
#include "gps/eval/features.h"
#include "gps/eval/periodic_knn.h"
#include "gps/io/npz.h"
#include "gps/methods/method.h"
#include "gps/models/export.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/optim/lars.h"
#include "gps/optim/schedule.h"
#include "gps/prior/prior.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/checkpoint.h"
#include "gps/train/progress.h"
#include "gps/train/run_dir.h"
#include "gps/train/stop_signal.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>

#include <omp.h>

namespace gps {

namespace {

using Clock = std::chrono::steady_clock;

// One training step's input: the pairs and their two augmented views.
struct ViewBatch {
  PairBatch pairs;
  torch::Tensor x1, x2;  // [B, C, H, W] float32
};

std::string default_run_name(const Config& cfg) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", std::localtime(&now));
  return str_cat(cfg.method.name, "-", cfg.gps ? "gps" : "plain", "-", cfg.augment.preset, "-", ts);
}

// Parameter groups as in solo-learn: weights with >= 2 dims get weight decay,
// 1-D parameters (biases, batch-norm) none; the online classifier its own lr
// and no decay. Frozen parameters (BYOL's EMA target) are left out.
// optim.name = lars: LARS on every group, the classifier's weight included
// as in solo-learn; 1-D parameters are left unscaled when
// optim.exclude_bias_n_norm (they never get decay: optim.weight_decay covers
// >= 2-D weights only). sgd: momentum SGD.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& method, torch::nn::Module* classifier,
                                                        const OptimConfig& o, double lr, double cls_lr) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : method.parameters())
    if (p.requires_grad()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto opts = [&](double group_lr, double wd) -> std::unique_ptr<torch::optim::OptimizerOptions> {
    if (o.name == "lars")
      return std::make_unique<LARSOptions>(LARSOptions(group_lr)
                                               .momentum(o.momentum)
                                               .weight_decay(wd)
                                               .eta(o.eta)
                                               .exclude_bias_n_norm(o.exclude_bias_n_norm));
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(group_lr).momentum(o.momentum).weight_decay(wd));
  };
  groups.emplace_back(decay, opts(lr, o.weight_decay));
  groups.emplace_back(no_decay, opts(lr, 0.0));
  if (classifier) groups.emplace_back(classifier->parameters(), opts(cls_lr, 0.0));
  if (o.name == "lars") return std::make_unique<LARS>(std::move(groups), LARSOptions(lr));
  GPS_CHECK(o.name == "sgd", "optim.name: unknown optimiser '", o.name, "' (expected: sgd|lars)");
  return std::make_unique<torch::optim::SGD>(std::move(groups), torch::optim::SGDOptions(lr));
}

// Table refresh (reference `reload_freq`): rebuild the GPS table from the
// model being trained (Proposition 1 iii: g = f approaches NNCLR).
void refresh_table(const Config& cfg, MethodImpl& method, const Dataset& train_set, PairSampler& sampler, RunDir& run,
                   int64_t epoch) {
  const auto t0 = Clock::now();
  auto feats = extract_features(method.backbone(), train_set);
  if (cfg.neighbors.refresh_features == "projector") {
    torch::NoGradGuard no_grad;
    auto head = method.projector_head();
    const bool was_training = head->is_training();
    head->eval();
    feats = head->forward(feats);
    head->train(was_training);
  }
  NeighborTable t = build_table(feats, candidate_rules(cfg.neighbors), search_options(cfg.neighbors));
  nlohmann::json rec = {{"event", "table_refresh"}, {"epoch", epoch}, {"features", cfg.neighbors.refresh_features},
                        {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
  if (train_set.has_labels()) rec["label_purity"] = candidate_label_purity(t, train_set.labels);
  sampler.set_table(std::move(t));
  run.log_metrics(rec);
}

// Several processes: this rank's contiguous rows of a global batch. Positions
// stay global, so each row's augmentation is the one a single process draws.
PairBatch shard(const PairBatch& pb, int rank, int world) {
  const int64_t n = pb.anchors.size(0) / world;
  return {pb.anchors.narrow(0, rank * n, n), pb.positives.narrow(0, rank * n, n), pb.positions.narrow(0, rank * n, n)};
}

}  // namespace

namespace {

bool is_training_key(const std::string& key) {
  static const char* kFree[] = {"train.threads", "train.out_dir", "train.name", "train.log_every", "train.progress",
                                "train.prefetch", "train.checkpoint_every_epochs", "train.checkpoint_every_steps",
                                "train.keep_checkpoints", "train.nan_policy", "train.nan_lr_factor",
                                "train.nan_max_rollbacks", "neighbors.cache"};
  if (key.rfind("eval.", 0) == 0) return false;
  for (const char* f : kFree)
    if (key == f) return false;
  return true;
}

// The run's finished state: summary.json without "interrupted": true.
bool run_finished(const std::filesystem::path& dir) {
  const auto p = dir / "summary.json";
  if (!std::filesystem::exists(p)) return false;
  std::ifstream f(p);
  const auto j = nlohmann::json::parse(f, nullptr, false);
  return !j.is_discarded() && !j.value("interrupted", false);
}

torch::Tensor rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(const torch::Tensor& t) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(t);
}

// "loss = nan (nt_xent = nan, z_std = 0.03)": the loss and every component, so
// the user sees which term diverged.
std::string describe_nonfinite(double loss, const StepOutput& out) {
  std::string s = str_cat("loss = ", loss);
  std::string bad;
  for (const auto& [k, v] : out.logs) {
    const double x = v.item<double>();
    if (!std::isfinite(x)) bad += str_cat(bad.empty() ? "" : ", ", k, " = ", x);
  }
  return bad.empty() ? s : str_cat(s, "; non-finite components: ", bad);
}

}  // namespace

bool is_finished_run(const std::string& run_dir) { return run_finished(run_dir); }

std::vector<std::string> changed_training_keys(const Config& saved, const Config& now) {
  std::vector<std::string> out;
  for (const auto& info : config_schema())
    if (is_training_key(info.key) && saved.get(info.key) != now.get(info.key)) out.push_back(info.key);
  return out;
}

std::string find_resumable_run(const Config& cfg) {
  namespace fs = std::filesystem;
  if (!cfg.train.name.empty()) {
    const fs::path p = fs::path(cfg.train.out_dir) / cfg.train.name;
    return fs::is_directory(p) ? p.string() : "";
  }
  if (!fs::is_directory(cfg.train.out_dir)) return "";
  std::string best;
  fs::file_time_type best_time{};
  for (const auto& e : fs::directory_iterator(cfg.train.out_dir)) {
    if (!e.is_directory() || !fs::exists(e.path() / "LATEST") || !fs::exists(e.path() / "config.yaml")) continue;
    if (run_finished(e.path())) continue;
    Config saved;
    try {
      saved.merge_yaml_file((e.path() / "config.yaml").string());
    } catch (const Error&) {
      continue;  // a run of another version or a damaged config: not ours to continue
    }
    if (!changed_training_keys(saved, cfg).empty()) continue;
    const auto t = fs::last_write_time(e.path() / "LATEST");
    if (best.empty() || t > best_time) best = e.path().string(), best_time = t;
  }
  return best;
}

TrainResult train(const Config& cfg, const std::string& command_line, const ResumeOptions& resume) {
  namespace fs = std::filesystem;
  cfg.validate();
  // Several processes (dist::active_group(), see process_group.h): every rank
  // runs this function on its share of each global batch; rank 0 alone writes
  // the run directory and evaluates.
  dist::Group* const group = dist::active_group();
  const int world = group ? group->world() : 1, rank = group ? group->rank() : 0;
  const bool lead = rank == 0;
  GPS_CHECK(cfg.optim.batch_size % world == 0, "optim.batch_size = ", cfg.optim.batch_size,
            " is the global batch and must divide evenly among the ", world, " processes");
  const int threads = set_threads(int(cfg.train.threads));
  const uint64_t seed = uint64_t(cfg.train.seed);
  torch::manual_seed(seed);

  // Data.
  Dataset train_set = load_dataset(cfg.data, "train");
  GPS_CHECK(!cfg.eval.enabled || train_set.has_labels(), "eval.enabled needs labels, and ", train_set.name,
            " has none: set eval.enabled=false to train on unlabeled data (then evaluate the run elsewhere)");
  GPS_CHECK(cfg.optim.batch_size <= train_set.size(), "optim.batch_size = ", cfg.optim.batch_size,
            " is larger than the training set (", train_set.size(), " images); lower it or raise data.subset");

  // Run directory: a new one, or the one being continued.
  std::string resume_from;
  int64_t resume_step = 0;
  RunDir run;
  if (!resume.run_dir.empty()) {
    const std::string saved_cfg = (fs::path(resume.run_dir) / "config.yaml").string();
    GPS_CHECK(fs::exists(saved_cfg), "--resume: ", resume.run_dir, " is not a run directory (no config.yaml)");
    Config saved;
    saved.merge_yaml_file(saved_cfg);
    const auto changed = changed_training_keys(saved, cfg);
    if (!changed.empty()) {
      std::string list;
      for (const auto& k : changed) list += str_cat("\n  ", k, ": run has ", saved.get(k), ", now ", cfg.get(k));
      GPS_CHECK(resume.force, "--resume: the config differs from ", saved_cfg, " in keys that change training:", list,
                "\n---> HINT: resume with the run's own config (gps train --resume ", resume.run_dir,
                "), or pass --force to continue anyway");
      std::fprintf(stderr, "[gps] warning: continuing %s with changed keys (--force):%s\n", resume.run_dir.c_str(),
                   list.c_str());
    }
    resume_from = latest_checkpoint(resume.run_dir);
    if (!resume_from.empty()) {
      // Read the step first, so that metrics past it are dropped before any new record.
      torch::serialize::InputArchive probe_archive;
      torch::Tensor step_t;
      try {
        probe_archive.load_from(resume_from);
      } catch (const std::exception& e) {
        GPS_FAIL(resume_from, ": cannot read checkpoint (truncated or corrupt file): ", e.what());
      }
      if (probe_archive.try_read("step", step_t)) resume_step = step_t.item<int64_t>();
    }
    if (lead) {
      run = RunDir::open(resume.run_dir, resume_step);
      std::fprintf(stderr, "[gps] continuing %s from %s\n", run.path().c_str(),
                   resume_from.empty() ? "the start (no checkpoint yet)" : resume_from.c_str());
      std::ofstream(run.file("command.txt"), std::ios::app) << command_line << "\n";
    }
  } else if (lead) {
    run = RunDir::create(cfg.train.out_dir, cfg.train.name.empty() ? default_run_name(cfg) : cfg.train.name);
    run.write_text("command.txt", command_line + "\n");
  }
  if (group) {  // the other ranks follow rank 0's run directory and checkpoint
    resume_from = group->share_string("resume_from", resume_from);
    const std::string path = group->share_string("run_dir", run.path());
    if (!lead) run = RunDir::follow(path);
  }
  run.write_text("config.yaml", cfg.to_yaml());
  if (lead)
    std::fprintf(stderr, "[gps] run directory %s (%d threads%s)\n", run.path().c_str(), threads,
                 world > 1 ? str_cat(" per process, ", world, " processes").c_str() : "");

  // Positive-pair table: the GPS neighbour table, or the self table of plain SSL.
  TrainResult result;
  result.gps = cfg.gps;
  NeighborTable table;
  if (cfg.gps) {
    if (lead) {  // one prior, one table (and cache write); the other ranks receive it
      const std::string cache_dir = (fs::path(cfg.train.out_dir) / "cache").string();
      auto prior = make_prior(cfg.prior, cache_dir);
      table = obtain_table(*prior, train_set, cfg.neighbors, cache_dir,
                           &result.table);
      std::fprintf(stderr, "[gps] neighbour table %s %s (%.1fs): %s\n", result.table.reused ? "reused" : "built",
                   result.table.dir.c_str(), result.table.seconds, result.table.fingerprint.c_str());
    }
    if (group) group->broadcast_table(table);
  } else {
    table = self_table(train_set.size());
    result.table.fingerprint = "self";
  }
  PairSampler sampler(std::move(table), cfg.optim.batch_size, seed);
  auto augment = make_augmentation(cfg.augment, train_set.mean, train_set.std);

  // Model, online probe, optimiser.
  Method method = make_method(cfg.method, cfg.model, train_set.channels());
  if (!cfg.model.init_from.empty()) {
    auto backbone = method->backbone();
    const std::string note =
        load_backbone_state(backbone, load_npz(cfg.model.init_from), "model.init_from: " + cfg.model.init_from);
    method->on_backbone_loaded();
    std::fprintf(stderr, "[gps] %s\n", note.c_str());
  }
  const bool probe = cfg.train.online_probe && train_set.has_labels();
  torch::nn::Linear classifier{nullptr};
  if (probe) classifier = torch::nn::Linear(method->backbone()->feature_dim(), train_set.num_classes);
  torch::nn::Module* classifier_ptr = probe ? classifier.ptr().get() : nullptr;
  std::vector<torch::Tensor> trainable = method->parameters();  // gradients averaged over ranks
  if (probe) {
    const auto c = classifier->parameters();
    trainable.insert(trainable.end(), c.begin(), c.end());
  }
  if (group) {  // the same seed gives the same weights; broadcasting makes sure
    group->broadcast_module(*method);
    if (probe) group->broadcast_module(*classifier);
  }
  const double scale = cfg.optim.scale_lr ? double(cfg.optim.batch_size) / 256.0 : 1.0;
  const double lr = cfg.optim.lr * scale, cls_lr = cfg.optim.classifier_lr * scale;
  auto optimizer_ptr = make_optimizer(*method, classifier_ptr, cfg.optim, lr, cls_lr);
  torch::optim::Optimizer& optimizer = *optimizer_ptr;

  const int64_t steps_per_epoch = sampler.batches_per_epoch();
  const int64_t total_steps = steps_per_epoch * cfg.optim.epochs;
  const int64_t warmup_steps = int64_t(std::llround(cfg.optim.warmup_epochs * steps_per_epoch));
  const int64_t B = cfg.optim.batch_size;

  // Everything that changes as training goes, and is checkpointed.
  int64_t step = 0;
  double lr_scale = 1.0;
  int64_t rollbacks = 0, rollbacks_in_a_row = 0;
  int64_t probe_correct = 0, probe_seen = 0;
  bool table_refreshed = false;
  auto snapshot = [&]() {
    CheckpointState s;
    s.step = step;
    s.epoch = step / steps_per_epoch;
    s.config_yaml = cfg.to_yaml();
    s.lr_scale = lr_scale;
    s.rollbacks = rollbacks;
    s.probe_correct = probe_correct;
    s.probe_seen = probe_seen;
    s.rng_state = rng_state();
    if (table_refreshed) s.table = sampler.table();
    return s;
  };
  // Resume takes everything from the checkpoint; a NaN rollback keeps its own
  // lr scale and rollback count.
  auto restore = [&](const std::string& path, bool rollback) {
    CheckpointState s = load_checkpoint(path, *method, classifier_ptr, &optimizer);
    step = s.step;
    if (!rollback) lr_scale = s.lr_scale, rollbacks = s.rollbacks;
    probe_correct = s.probe_correct;
    probe_seen = s.probe_seen;
    if (s.rng_state.defined()) set_rng_state(s.rng_state);
    if (s.table.ids.defined()) {
      s.table.validate(train_set.size(), path);
      sampler.set_table(std::move(s.table));
      table_refreshed = true;
    }
  };
  if (!resume_from.empty()) {
    restore(resume_from, false);
    run.log_metrics({{"event", "resume"}, {"step", step}, {"checkpoint", resume_from}});
  }
  auto checkpoint_due = [&](int64_t done) {  // after `done` steps
    if (done >= total_steps) return false;   // the final checkpoint.pt follows
    const auto& t = cfg.train;
    if (t.checkpoint_every_steps > 0 && done % t.checkpoint_every_steps == 0) return true;
    return t.checkpoint_every_epochs > 0 && done % (steps_per_epoch * t.checkpoint_every_epochs) == 0;
  };
  // Rollback needs a checkpoint to go back to: the initial state.
  if (lead && cfg.train.nan_policy == "rollback" && latest_checkpoint(run.path()).empty())
    save_run_checkpoint(run.path(), cfg.train.keep_checkpoints, *method, classifier_ptr, optimizer, snapshot());

  // Batch b of an epoch: pairs and both views. Each view's random parameters
  // are keyed by (seed, epoch, view, position), so any step can be redone.
  auto make_batch = [&](int64_t epoch, torch::Tensor order, int64_t b, bool worker) {
    if (worker) omp_set_num_threads(1);  // worker thread only: leave the cores to the model
    ViewBatch v;
    v.pairs = sampler.batch(epoch, order, b);
    if (world > 1) v.pairs = shard(v.pairs, rank, world);
    const uint64_t s1 = mix64(seed ^ mix64(uint64_t(epoch) * 2 + 0));
    const uint64_t s2 = mix64(seed ^ mix64(uint64_t(epoch) * 2 + 1));
    v.x1 = augment->apply(train_set.images.index_select(0, v.pairs.anchors), v.pairs.positions, s1, 0);
    v.x2 = augment->apply(train_set.images.index_select(0, v.pairs.positives), v.pairs.positions, s2, 1);
    return v;
  };

  Progress progress(str_cat(cfg.method.name, cfg.gps ? "+gps" : ""), total_steps, cfg.train.progress && lead);
  progress.rebase(step);
  PeriodicKnn periodic_knn(cfg.data, cfg.eval);  // eval.knn_every
  auto t_start = Clock::now();
  int64_t timed_from = step;
  double last_loss = 0;
  int64_t cur_epoch = -1;
  torch::Tensor order;
  std::future<ViewBatch> next;  // batch b+1, prepared on a worker thread while step b computes (train.prefetch)
  method->train();
  while (step < total_steps) {
    const int64_t epoch = step / steps_per_epoch, b = step % steps_per_epoch;
    if (epoch != cur_epoch) {
      const int64_t R = cfg.neighbors.refresh_every;
      if (b == 0 && cfg.gps && R > 0 && epoch > 0 && epoch % R == 0) {
        if (lead) refresh_table(cfg, *method, train_set, sampler, run, epoch);
        if (group) {  // rank 0's table everywhere, as at the start
          NeighborTable t = sampler.table();
          group->broadcast_table(t);
          sampler.set_table(std::move(t));
        }
        table_refreshed = true;
      }
      if (b == 0) probe_correct = probe_seen = 0;
      order = sampler.epoch_order(epoch);
      cur_epoch = epoch;
    }
    ViewBatch views = next.valid() ? next.get() : make_batch(epoch, order, b, false);
    if (cfg.train.prefetch && b + 1 < steps_per_epoch)
      next = std::async(std::launch::async, make_batch, epoch, order, b + 1, true);
    const PairBatch& pb = views.pairs;

    const double step_lr = lr_scale * warmup_cosine(step, total_steps, warmup_steps, lr, cfg.optim.warmup_start_lr,
                                                    cfg.optim.min_lr);
    auto& groups = optimizer.param_groups();
    for (size_t g = 0; g < 2; ++g) groups[g].options().set_lr(step_lr);  // the classifier keeps its lr

    StepOutput out = method->training_step(views.x1, views.x2);
    torch::Tensor loss = out.loss;
    torch::Tensor probe_loss;
    double probe_loss_value = 0;
    int64_t correct = 0;
    if (probe) {
      auto y = train_set.labels.index_select(0, pb.anchors);
      auto logits = classifier(out.features1.detach());
      probe_loss = torch::nn::functional::cross_entropy(logits, y);
      loss = loss + probe_loss;
      correct = logits.argmax(1).eq(y).sum().item<int64_t>();
      probe_loss_value = probe_loss.item<double>();
    }
    // NaN / Inf guard, before the update touches the weights.
    last_loss = out.loss.item<double>();
    bool finite = std::isfinite(last_loss) && (!probe || std::isfinite(probe_loss_value));
    bool stop = false;  // several processes: a stop request seen by any rank, agreed before the update
    if (group) {
      // One all-reduce makes every rank take the same branches (NaN guard,
      // stop) and gives the global probe counts. The SSL loss is already the
      // global one (the methods gather embeddings); the probe loss is per rank.
      auto agree = torch::tensor({finite ? 0.0 : 1.0, stop_requested() ? 1.0 : 0.0, double(correct), probe_loss_value},
                                 torch::kFloat64);
      group->all_reduce_sum(agree);
      finite = agree[0].item<double>() == 0;
      stop = agree[1].item<double>() > 0;
      correct = int64_t(std::llround(agree[2].item<double>()));
      probe_loss_value = agree[3].item<double>() / world;
    }
    if (!finite) {
      const std::string what = str_cat("non-finite loss at step ", step, " (epoch ", epoch, "): ",
                                       describe_nonfinite(last_loss, out));
      // Back to the newest checkpoint; when the run diverges again before the
      // next checkpoint, that checkpoint may already hold damaged weights, so
      // each further rollback in a row goes one checkpoint older.
      const auto saved = list_run_checkpoints(run.path());
      const std::string back =
          saved.empty() ? "" : saved[size_t(std::max<int64_t>(0, int64_t(saved.size()) - 1 - rollbacks_in_a_row))];
      if (cfg.train.nan_policy == "rollback" && rollbacks < cfg.train.nan_max_rollbacks && !back.empty()) {
        if (next.valid()) next.wait();
        next = {};
        restore(back, true);
        ++rollbacks;
        ++rollbacks_in_a_row;
        lr_scale *= cfg.train.nan_lr_factor;
        std::fprintf(stderr, "\n[gps] %s; rolled back to %s (step %lld) with lr x %g (rollback %lld of %lld)\n",
                     what.c_str(), back.c_str(), static_cast<long long>(step), lr_scale,
                     static_cast<long long>(rollbacks), static_cast<long long>(cfg.train.nan_max_rollbacks));
        run.log_metrics({{"event", "nan_rollback"}, {"detail", what}, {"to_step", step}, {"lr_scale", lr_scale}});
        cur_epoch = -1;
        progress.rebase(step);
        t_start = Clock::now();
        timed_from = step;
        continue;
      }
      run.log_metrics({{"event", "nan_stop"}, {"detail", what}});
      GPS_FAIL(what, "\n---> HINT: lower optim.lr", cfg.train.nan_policy == "rollback"
                                                        ? " (rollbacks exhausted: train.nan_max_rollbacks)"
                                                        : ", or set train.nan_policy=rollback to retry from the last checkpoint with a lower lr");
    }
    optimizer.zero_grad();
    loss.backward();
    if (group) group->average_gradients(trainable);  // before the optimiser (LARS trust ratios) reads them
    optimizer.step();
    method->after_step(double(step + 1) / double(total_steps));
    if (probe) probe_correct += correct, probe_seen += B;
    ++step;

    const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
    const double ips = double((step - timed_from) * B) / std::max(elapsed, 1e-9);
    if (step % cfg.train.log_every == 0 || step == total_steps) {
      nlohmann::json rec = {{"step", step}, {"epoch", epoch}, {"lr", step_lr}, {"loss", last_loss},
                            {"images_per_s", ips}, {"elapsed_s", elapsed}};
      for (auto& [k, v] : out.logs) rec[k] = v.item<double>();
      if (probe) {
        rec["probe_loss"] = probe_loss_value;
        rec["probe_acc"] = 100.0 * double(probe_correct) / double(std::max<int64_t>(1, probe_seen));
      }
      run.log_metrics(rec);
    }
    if (lead && periodic_knn.due(step, steps_per_epoch)) {
      // Eval mode, no gradients, no random draws: training and resume stay bit-identical.
      auto rec = periodic_knn.run(method->backbone(), train_set, step, steps_per_epoch);
      run.log_metrics(rec);
      t_start += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(rec["seconds"].get<double>()));
    }
    char values[128];
    std::snprintf(values, sizeof(values), "loss %.4f lr %.4f%s", last_loss, step_lr,
                  probe ? str_cat(" probe ", int(100.0 * probe_correct / std::max<int64_t>(1, probe_seen)), "%").c_str() : "");
    progress.update(step, epoch, ips, values);
    if (checkpoint_due(step)) {
      rollbacks_in_a_row = 0;
      if (lead) save_run_checkpoint(run.path(), cfg.train.keep_checkpoints, *method, classifier_ptr, optimizer, snapshot());
    }
    if ((group ? stop : stop_requested()) && step < total_steps) {
      result.interrupted = true;
      break;
    }
  }
  if (next.valid()) next.wait();
  progress.finish();
  if (result.interrupted && lead)
    std::fprintf(stderr, "[gps] stop requested: finished step %lld, writing the checkpoint and summary to %s\n",
                 static_cast<long long>(step), run.path().c_str());
  result.train_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  result.steps = step;
  result.images_per_second = double((step - timed_from) * B) / std::max(result.train_seconds, 1e-9);
  result.final_loss = last_loss;
  if (probe) result.online_probe_top1 = 100.0 * double(probe_correct) / double(std::max<int64_t>(1, probe_seen));
  result.run_dir = run.path();

  // The final (or interrupted) state: checkpoint.pt, and LATEST points at it.
  if (lead) {
    save_checkpoint(run.file("checkpoint.pt"), *method, classifier_ptr, optimizer, snapshot());
    set_latest(run.path(), "checkpoint.pt");
  }

  if (cfg.eval.enabled && !result.interrupted && lead) {
    GPS_CHECK(train_set.has_labels(), "eval.enabled needs labels on the train split; set eval.enabled=false");
    Dataset test_set = load_dataset(cfg.data, "test");
    auto backbone = method->backbone();
    auto train_x = extract_features(backbone, train_set);
    auto test_x = extract_features(backbone, test_set);
    result.eval = evaluate_features(train_x, train_set, test_x, test_set, cfg.eval, seed);
  }

  nlohmann::json summary = {{"method", cfg.method.name},
                            {"gps", cfg.gps},
                            {"steps", result.steps},
                            {"interrupted", result.interrupted},
                            {"train_seconds", result.train_seconds},
                            {"images_per_second", result.images_per_second},
                            {"final_loss", result.final_loss},
                            {"online_probe_top1", result.online_probe_top1},
                            {"table", {{"fingerprint", result.table.fingerprint}, {"dir", result.table.dir},
                                       {"reused", result.table.reused}, {"seconds", result.table.seconds}}}};
  if (result.eval.done) summary["eval"] = result.eval.to_json();
  run.write_json("summary.json", summary);
  return result;
}

}  // namespace gps
