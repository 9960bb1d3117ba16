#include "gps/train/trainer.h"

#include "gps/augment/augment.h"
#include "gps/core/check.h"
#include "gps/core/rng.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/eval/features.h"
#include "gps/methods/method.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/optim/lars.h"
#include "gps/optim/schedule.h"
#include "gps/prior/prior.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/checkpoint.h"
#include "gps/train/progress.h"
#include "gps/train/run_dir.h"
#include "gps/train/stop_signal.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <future>

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

}  // namespace

TrainResult train(const Config& cfg, const std::string& command_line) {
  cfg.validate();
  const int threads = set_threads(int(cfg.train.threads));
  const uint64_t seed = uint64_t(cfg.train.seed);
  torch::manual_seed(seed);

  // Data.
  Dataset train_set = load_dataset(cfg.data, "train");
  GPS_CHECK(cfg.optim.batch_size <= train_set.size(), "optim.batch_size = ", cfg.optim.batch_size,
            " is larger than the training set (", train_set.size(), " images); lower it or raise data.subset");

  RunDir run = RunDir::create(cfg.train.out_dir, cfg.train.name.empty() ? default_run_name(cfg) : cfg.train.name);
  run.write_text("config.yaml", cfg.to_yaml());
  run.write_text("command.txt", command_line + "\n");
  std::fprintf(stderr, "[gps] run directory %s (%d threads)\n", run.path().c_str(), threads);

  // Positive-pair table: the GPS neighbour table, or the self table of plain SSL.
  TrainResult result;
  result.gps = cfg.gps;
  NeighborTable table;
  if (cfg.gps) {
    auto prior = make_prior(cfg.prior);
    table = obtain_table(*prior, train_set, cfg.neighbors,
                         (std::filesystem::path(cfg.train.out_dir) / "cache").string(), &result.table);
    std::fprintf(stderr, "[gps] neighbour table %s %s (%.1fs): %s\n", result.table.reused ? "reused" : "built",
                 result.table.dir.c_str(), result.table.seconds, result.table.fingerprint.c_str());
  } else {
    table = self_table(train_set.size());
    result.table.fingerprint = "self";
  }
  PairSampler sampler(std::move(table), cfg.optim.batch_size, seed);
  auto augment = make_augmentation(cfg.augment, train_set.mean, train_set.std);

  // Model, online probe, optimiser.
  Method method = make_method(cfg.method, cfg.model, train_set.channels());
  const bool probe = cfg.train.online_probe && train_set.has_labels();
  torch::nn::Linear classifier{nullptr};
  if (probe) classifier = torch::nn::Linear(method->backbone()->feature_dim(), train_set.num_classes);
  const double scale = cfg.optim.scale_lr ? double(cfg.optim.batch_size) / 256.0 : 1.0;
  const double lr = cfg.optim.lr * scale, cls_lr = cfg.optim.classifier_lr * scale;
  auto optimizer_ptr = make_optimizer(*method, probe ? classifier.ptr().get() : nullptr, cfg.optim, lr, cls_lr);
  torch::optim::Optimizer& optimizer = *optimizer_ptr;

  const int64_t steps_per_epoch = sampler.batches_per_epoch();
  const int64_t total_steps = steps_per_epoch * cfg.optim.epochs;
  const int64_t warmup_steps = int64_t(std::llround(cfg.optim.warmup_epochs * steps_per_epoch));
  const int64_t B = cfg.optim.batch_size;

  Progress progress(str_cat(cfg.method.name, cfg.gps ? "+gps" : ""), total_steps, cfg.train.progress);
  const auto t_start = Clock::now();
  int64_t step = 0;
  double last_loss = 0;
  int64_t probe_correct = 0, probe_seen = 0;
  method->train();
  for (int64_t epoch = 0; epoch < cfg.optim.epochs; ++epoch) {
    const int64_t R = cfg.neighbors.refresh_every;
    if (cfg.gps && R > 0 && epoch > 0 && epoch % R == 0) refresh_table(cfg, *method, train_set, sampler, run, epoch);
    const auto order = sampler.epoch_order(epoch);
    probe_correct = probe_seen = 0;
    // Batch b+1 is gathered and augmented on a worker thread while step b computes.
    auto make_batch = [&, epoch](int64_t b) {
      if (cfg.train.prefetch) omp_set_num_threads(1);  // worker thread only: leave the cores to the model
      ViewBatch v;
      v.pairs = sampler.batch(epoch, order, b);
      // Each view's random parameters are keyed by (seed, epoch, view, position).
      const uint64_t s1 = mix64(seed ^ mix64(uint64_t(epoch) * 2 + 0));
      const uint64_t s2 = mix64(seed ^ mix64(uint64_t(epoch) * 2 + 1));
      v.x1 = augment->apply(train_set.images.index_select(0, v.pairs.anchors), v.pairs.positions, s1, 0);
      v.x2 = augment->apply(train_set.images.index_select(0, v.pairs.positives), v.pairs.positions, s2, 1);
      return v;
    };
    const auto policy = cfg.train.prefetch ? std::launch::async : std::launch::deferred;
    std::future<ViewBatch> next = std::async(policy, make_batch, 0);
    for (int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
      ViewBatch views = next.get();
      if (b + 1 < steps_per_epoch) next = std::async(policy, make_batch, b + 1);
      const PairBatch& pb = views.pairs;
      const torch::Tensor& x1 = views.x1;
      const torch::Tensor& x2 = views.x2;

      const double step_lr = warmup_cosine(step, total_steps, warmup_steps, lr, cfg.optim.warmup_start_lr,
                                           cfg.optim.min_lr);
      auto& groups = optimizer.param_groups();
      for (size_t g = 0; g < 2; ++g) groups[g].options().set_lr(step_lr);  // the classifier keeps its lr

      StepOutput out = method->training_step(x1, x2);
      torch::Tensor loss = out.loss;
      torch::Tensor probe_loss;
      if (probe) {
        auto y = train_set.labels.index_select(0, pb.anchors);
        auto logits = classifier(out.features1.detach());
        probe_loss = torch::nn::functional::cross_entropy(logits, y);
        loss = loss + probe_loss;
        probe_correct += logits.argmax(1).eq(y).sum().item<int64_t>();
        probe_seen += B;
      }
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      method->after_step(double(step + 1) / double(total_steps));

      last_loss = out.loss.item<double>();
      GPS_CHECK(std::isfinite(last_loss), "loss is ", last_loss, " at step ", step, " (epoch ", epoch,
                "): training diverged; lower optim.lr");
      const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
      const double ips = double((step + 1) * B) / std::max(elapsed, 1e-9);
      if ((step + 1) % cfg.train.log_every == 0 || step + 1 == total_steps) {
        nlohmann::json rec = {{"step", step + 1}, {"epoch", epoch}, {"lr", step_lr}, {"loss", last_loss},
                              {"images_per_s", ips}, {"elapsed_s", elapsed}};
        for (auto& [k, v] : out.logs) rec[k] = v.item<double>();
        if (probe) {
          rec["probe_loss"] = probe_loss.item<double>();
          rec["probe_acc"] = 100.0 * double(probe_correct) / double(std::max<int64_t>(1, probe_seen));
        }
        run.log_metrics(rec);
      }
      char values[128];
      std::snprintf(values, sizeof(values), "loss %.4f lr %.4f%s", last_loss, step_lr,
                    probe ? str_cat(" probe ", int(100.0 * probe_correct / std::max<int64_t>(1, probe_seen)), "%").c_str() : "");
      progress.update(step + 1, epoch, ips, values);
      if (stop_requested()) {
        result.interrupted = true;
        ++step;
        break;
      }
    }
    if (result.interrupted) break;
  }
  progress.finish();
  if (result.interrupted)
    std::fprintf(stderr, "[gps] stop requested: finished step %lld, writing the checkpoint and summary to %s\n",
                 static_cast<long long>(step), run.path().c_str());
  result.train_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  result.steps = step;
  result.images_per_second = double(step * B) / std::max(result.train_seconds, 1e-9);
  result.final_loss = last_loss;
  if (probe) result.online_probe_top1 = 100.0 * double(probe_correct) / double(std::max<int64_t>(1, probe_seen));
  result.run_dir = run.path();

  CheckpointState state{step, step / steps_per_epoch, cfg.to_yaml()};
  save_checkpoint(run.file("checkpoint.pt"), *method, probe ? classifier.ptr().get() : nullptr, optimizer, state);

  if (cfg.eval.enabled && !result.interrupted) {
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
