#include "gps/train/trainer.h"

#include "gps/augment/augment.h"
#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/precision.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/distributed/process_group.h"
#include "gps/eval/periodic_knn.h"
#include "gps/io/fs.h"
#include "gps/io/npz.h"
#include "gps/methods/method.h"
#include "gps/models/export.h"
#include "gps/models/features.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/optim/schedule.h"
#include "gps/prior/prior.h"
#include "gps/sampling/pair_sampler.h"
#include "gps/train/batch_source.h"
#include "gps/train/budget.h"
#include "gps/train/checkpoint.h"
#include "gps/train/eval_data.h"
#include "gps/train/open_run.h"
#include "gps/train/prefetcher.h"
#include "gps/train/progress.h"
#include "gps/train/run_dir.h"
#include "gps/train/step_monitor.h"
#include "gps/train/stop_signal.h"
#include "gps/train/train_state.h"
#include "gps/train/train_step.h"

#include <chrono>
#include <cmath>
#include <optional>

namespace gps {

namespace {

using Clock = std::chrono::steady_clock;

// Table refresh (reference `reload_freq`): rebuild the GPS table from the
// model being trained (Proposition 1 iii: g = f approaches NNCLR).
void refresh_table(const Config& cfg, MethodImpl& method, const Dataset& train_set, PairSampler& sampler, RunDir& run,
                   int64_t epoch) {
  const auto t0 = Clock::now();
  auto feats = extract_features(method.backbone(), train_set);
  if (cfg.neighbors.refresh_features == "projector") feats = project_features(method, feats);
  NeighborTable t = build_table(feats, cfg.neighbors.rules, search_options(cfg.neighbors));
  nlohmann::json rec = {{"event", "table_refresh"}, {"epoch", epoch}, {"features", cfg.neighbors.refresh_features},
                        {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
  if (train_set.has_labels()) rec["label_purity"] = candidate_label_purity(t, train_set.labels);
  sampler.set_table(std::move(t));
  run.log_metrics(rec);
}

}  // namespace

Config with_auto_devices_resolved(const Config& cfg, const torch::Device& device) {
  Config c = cfg;
  c.prior.device = follow_device(cfg.prior.device, device);
  c.neighbors.search.device = follow_device(cfg.neighbors.search.device, device);
  return c;
}

namespace {

// The budget's decision on stderr: the first, and every one that changes the length.
void report_budget(const Budget& budget, double minutes, const Budget::Decision& d, int64_t cap_steps,
                   int64_t warmup_steps, int64_t steps_per_epoch) {
  const auto& info = budget.info();
  if (budget.decisions() == 1 || d.changed)
    std::fprintf(stderr, "\n[gps] optim.budget_minutes=%g: %lld steps (%.2f epochs%s) at %.3f s/step; %.1f min spent, "
                 "%.1f min reserved for the evaluation\n",
                 minutes, static_cast<long long>(d.total_steps), double(d.total_steps) / double(steps_per_epoch),
                 d.total_steps == cap_steps ? ", optim.epochs" : "", info["step_seconds"].get<double>(),
                 info["spent_seconds"].get<double>() / 60.0, info["eval_reserve_seconds"].get<double>() / 60.0);
  if (budget.decisions() == 1 && d.total_steps < warmup_steps + steps_per_epoch)
    std::fprintf(stderr, "[gps] warning: the budget leaves %lld steps, little after the %lld warm-up steps "
                 "(optim.warmup_epochs); raise optim.budget_minutes or lower the warm-up\n",
                 static_cast<long long>(d.total_steps), static_cast<long long>(warmup_steps));
}

}  // namespace

TrainResult train(const Config& cfg, const std::string& command_line, const ResumeOptions& resume) {
  // Wall clock of this process's run, data, prior and table included: the x
  // axis of a time-to-accuracy curve ("run_seconds" in kNN records and summary).
  const auto run_start = Clock::now();
  const auto run_seconds = [&] { return std::chrono::duration<double>(Clock::now() - run_start).count(); };
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
  const torch::Device device = resolve_device(cfg.train.device);
  make_current(device);
  configure_determinism(device, cfg.train.deterministic);
  configure_tf32(cfg.train.tf32);  // before open_run: env.json records it
  const std::string sync_debug = sync_debug_from_env();
  // prior.device and neighbors.device "auto": this rank's training device.
  const Config aux = with_auto_devices_resolved(cfg, device);
  const Precision precision = parse_precision(cfg.train.precision, device);
  // Prefetch: on CUDA the host is free while the device computes, so the
  // next batch is prepared on every core but one; on the CPU the cores are
  // the model's, and one worker thread (when asked for) takes little.
  const bool prefetch = cfg.train.prefetch == "true" || (cfg.train.prefetch == "auto" && device.is_cuda());
  const int loader_threads = cfg.train.loader_threads > 0 ? int(cfg.train.loader_threads)
                             : device.is_cuda()          ? std::max(1, threads - 1)
                                                         : 1;
  const uint64_t seed = uint64_t(cfg.train.seed);
  torch::manual_seed(seed);

  // Data.
  Dataset train_set = load_dataset(cfg.data, "train");
  GPS_CHECK(cfg.optim.batch_size <= train_set.size(), "optim.batch_size = ", cfg.optim.batch_size,
            " is larger than the training set (", train_set.size(), " images); lower it or raise data.subset");
  // The test split, its labels and the probe's validation split, before any
  // step: rank 0 evaluates, so rank 0 checks.
  EvalData eval_data = lead ? prepare_eval_data(cfg, train_set) : EvalData{};

  OpenedRun opened = open_run(cfg, command_line, resume, group);
  RunDir& run = opened.run;
  if (lead)
    std::fprintf(stderr, "[gps] run directory %s (%s, %s%s, %d threads%s)\n", run.path().c_str(),
                 device.str().c_str(), precision_name(precision), cfg.train.channels_last ? ", channels-last" : "",
                 threads, world > 1 ? str_cat(" per process, ", world, " processes").c_str() : "");

  // Positive-pair table: the GPS neighbour table, or the self table of plain SSL.
  TrainResult result;
  result.gps = cfg.gps;
  NeighborTable table;
  if (cfg.gps) {
    if (lead) {  // one prior, one table (and cache write); the other ranks receive it
      const std::string cache = cache_dir(cfg.train.out_dir);
      auto prior = make_prior(aux.prior, cache);
      table = obtain_table(*prior, train_set, aux.neighbors, cache, &result.table);
      std::fprintf(stderr, "[gps] neighbour table %s %s (%.1fs): %s\n", result.table.reused ? "reused" : "built",
                   result.table.dir.c_str(), result.table.seconds, result.table.fingerprint.c_str());
    }
    if (group) broadcast_table(*group, table);
  } else {
    table = self_table(train_set.size());
    result.table.fingerprint = "self";
  }
  PairSampler sampler(std::move(table), cfg.optim.batch_size, seed);
  auto augment = make_augmentation(cfg.augment, train_set.mean, train_set.std);

  // Model, online probe, optimiser: the training state.
  const bool probe = cfg.train.online_probe && train_set.has_labels();
  TrainState state = make_train_state(cfg, train_set.channels(), probe ? train_set.num_classes : 0, device);
  if (!cfg.model.init_from.empty()) {
    auto backbone = state.method->backbone();
    const std::string note =
        load_backbone_state(backbone, load_npz(cfg.model.init_from), "model.init_from: " + cfg.model.init_from);
    state.method->on_backbone_loaded();
    std::fprintf(stderr, "[gps] %s\n", note.c_str());
  }
  if (group) {  // the same seed gives the same weights; broadcasting makes sure
    group->broadcast_module(*state.method);
    if (probe) group->broadcast_module(*state.classifier);
  }

  const int64_t steps_per_epoch = sampler.batches_per_epoch();
  const int64_t cap_steps = steps_per_epoch * cfg.optim.epochs;
  int64_t total_steps = cap_steps;  // optim.budget_minutes may shorten it, after the first steps and every epoch
  const int64_t warmup_steps = int64_t(std::llround(cfg.optim.warmup_epochs * steps_per_epoch));
  const int64_t B = cfg.optim.batch_size;
  const double lr = cfg.optim.lr * (cfg.optim.scale_lr ? double(B) / 256.0 : 1.0);

  bool table_refreshed = false;  // then checkpoints carry the sampler's table
  auto restore_from = [&](const std::string& path, bool rollback) {
    CheckpointState c = restore(state, path, rollback);
    if (c.table.ids.defined()) {
      c.table.validate(train_set.size(), path);
      sampler.set_table(std::move(c.table));
      table_refreshed = true;
    }
  };
  if (!opened.resume_from.empty()) {
    restore_from(opened.resume_from, false);
    run.log_metrics({{"event", "resume"}, {"step", state.step}, {"checkpoint", opened.resume_from}});
  }
  if (state.budget_steps > 0) total_steps = state.budget_steps;  // decided before the checkpoint
  // optim.budget_minutes: the run's length from its measured speed (budget.h).
  Budget budget({cfg.optim.budget_minutes, steps_per_epoch, cap_steps, warmup_steps, B}, run_start,
                state.budget_spent_s, state.budget_steps, state.step);
  auto snap = [&] {
    if (budget.enabled()) state.budget_spent_s = budget.now();
    return snapshot(state, cfg, steps_per_epoch, table_refreshed ? &sampler.table() : nullptr);
  };
  auto checkpoint_due = [&](int64_t done) {  // after `done` steps
    if (done >= total_steps) return false;   // the final checkpoint.pt follows
    const auto& t = cfg.train;
    if (t.checkpoint_every_steps > 0 && done % t.checkpoint_every_steps == 0) return true;
    return t.checkpoint_every_epochs > 0 && done % (steps_per_epoch * t.checkpoint_every_epochs) == 0;
  };
  // Rollback needs a checkpoint to go back to: the initial state.
  if (lead && cfg.train.nan_policy == "rollback" && latest_checkpoint(run.path()).empty())
    save_state(state, snap(), run.path(), cfg.train.keep_checkpoints);

  BatchSource batches(sampler, *augment, train_set, seed, probe, rank, world, device, cfg.train.channels_last);
  StepMonitor monitor(device);
  Progress progress(str_cat(cfg.method.name, cfg.gps ? "+gps" : ""), total_steps, cfg.train.progress && lead);
  progress.rebase(state.step);
  PeriodicKnn periodic_knn(cfg.data, cfg.eval, eval_data.test ? &*eval_data.test : nullptr);  // eval.knn_every
  auto t_start = Clock::now();
  int64_t timed_from = state.step;
  double data_wait = 0;  // seconds of the timed span spent waiting for host batches
  NanGuard nan_guard(cfg.train);
  Settled settled;
  std::string shown;  // the progress line's values, from the last settle
  int64_t cur_epoch = -1;
  torch::Tensor order;
  // Batch b+1, prepared on one worker thread while step b computes (train.prefetch).
  std::optional<Prefetcher> next;
  if (prefetch) next.emplace(loader_threads);
  reset_device_memory_peak(device);  // gpu_memory_mib: the training steps, not the prior and table
  state.method->train();
  while (state.step < total_steps) {
    const int64_t step = state.step, epoch = step / steps_per_epoch, b = step % steps_per_epoch;
    if (group) group->set_step(step);  // named if a rank is lost
    if (epoch != cur_epoch) {
      const int64_t R = cfg.neighbors.refresh_every;
      if (b == 0 && cfg.gps && R > 0 && epoch > 0 && epoch % R == 0) {
        if (lead) refresh_table(aux, *state.method, train_set, sampler, run, epoch);
        if (group) {  // rank 0's table everywhere, as at the start
          NeighborTable t = sampler.table();
          broadcast_table(*group, t);
          sampler.set_table(std::move(t));
        }
        table_refreshed = true;
      }
      if (b == 0) state.probe_correct = state.probe_seen = 0;
      order = sampler.epoch_order(epoch);
      cur_epoch = epoch;
    }
    // GPS_SYNC_DEBUG: from here to the end of the step, a host wait for the device fails (or warns).
    std::optional<SyncDebugScope> strict(std::in_place, device, sync_debug);
    const auto t_wait = Clock::now();  // the loop waits here when augmentation is behind the device
    StepBatch host_batch = next && next->pending() ? next->take() : batches.host(epoch, order, b);
    data_wait += std::chrono::duration<double>(Clock::now() - t_wait).count();
    StepBatch batch = batches.upload(std::move(host_batch));
    if (next && b + 1 < steps_per_epoch)
      next->submit([&batches, epoch, order, b] { return batches.host(epoch, order, b + 1); });

    StepOptions opt;
    opt.precision = precision;
    opt.lr = state.lr_scale * warmup_cosine(step, total_steps, warmup_steps, lr, cfg.optim.warmup_start_lr,
                                            cfg.optim.min_lr);
    opt.progress_after = double(step + 1) / double(total_steps);
    opt.group = group;
    monitor.record(train_step(state, batch, opt), step);
    if (probe) state.probe_seen += B;
    strict.reset();

    const int64_t done = state.step;
    const bool budget_due = budget.due(done, state.budget_steps, total_steps);
    const bool settle_due = done % cfg.train.log_every == 0 || done == total_steps || checkpoint_due(done) ||
                            done % steps_per_epoch == 0 || budget_due;
    bool stop = stop_requested();
    // Several processes: a stop request seen by any rank is agreed on, every
    // step over Gloo; over NCCL only where the loop settles anyway, since
    // reading the agreed flag back would make the host wait for the device.
    if (group && (!group->nccl() || settle_due)) {
      auto flag = torch::tensor({stop ? 1.0 : 0.0}, torch::kFloat64);
      group->all_reduce_sum(flag);
      stop = flag.item<double>() > 0;
    } else if (group) {
      stop = false;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
    const double ips = double((done - timed_from) * B) / std::max(elapsed, 1e-9);
    const bool log_due = done % cfg.train.log_every == 0 || done == total_steps;
    if (!(settle_due || stop)) {
      progress.update(done, epoch, ips, shown);
      continue;
    }

    // Settle: the loop's one wait for the device. A non-finite loss is caught
    // here, before any checkpoint, table refresh or evaluation sees its weights.
    settled = monitor.settle(state, group);
    if (!settled.finite) {  // train.nan_policy (step_monitor.h)
      const std::string what = NanGuard::what(settled, done, steps_per_epoch);
      const std::string back = nan_guard.rollback_to(run.path(), state.rollbacks);
      if (!back.empty()) {
        if (next) next->drop();
        restore_from(back, true);
        monitor.reset();
        ++state.rollbacks;
        nan_guard.rolled_back();
        state.lr_scale *= cfg.train.nan_lr_factor;
        std::fprintf(stderr, "\n[gps] %s; rolled back to %s (step %lld) with lr x %g (rollback %lld of %lld)\n",
                     what.c_str(), back.c_str(), static_cast<long long>(state.step), state.lr_scale,
                     static_cast<long long>(state.rollbacks), static_cast<long long>(cfg.train.nan_max_rollbacks));
        run.log_metrics(
            {{"event", "nan_rollback"}, {"detail", what}, {"to_step", state.step}, {"lr_scale", state.lr_scale}});
        cur_epoch = -1;
        progress.rebase(state.step);
        t_start = Clock::now();
        timed_from = state.step;
        data_wait = 0;
        continue;
      }
      run.log_metrics({{"event", "nan_stop"}, {"detail", what}});
      nan_guard.stop(what);
    }

    if (budget_due) {
      const double eval_images = cfg.eval.enabled && lead ? double(train_set.size() + eval_data.test->size()) : 0.0;
      const Budget::Decision d = budget.settle(done, state.budget_steps, total_steps, eval_images, group, lead);
      if (d.made) {
        state.budget_steps = total_steps = d.total_steps;
        progress.set_total(total_steps);
        run.log_metrics({{"event", "budget"}, {"budget", budget.info()}});
        if (lead) report_budget(budget, cfg.optim.budget_minutes, d, cap_steps, warmup_steps, steps_per_epoch);
      }
    }
    const double probe_acc = 100.0 * double(state.probe_correct) / double(std::max<int64_t>(1, state.probe_seen));
    if (log_due) {
      nlohmann::json rec = {{"step", done},        {"epoch", epoch},       {"lr", opt.lr},
                            {"loss", settled.loss}, {"images_per_s", ips}, {"elapsed_s", elapsed},
                            {"data_wait_s", data_wait}};
      for (const auto& [k, v] : settled.logs) rec[k] = v;
      if (probe) rec["probe_loss"] = settled.probe_loss, rec["probe_acc"] = probe_acc;
      run.log_metrics(rec);
    }
    if (lead && periodic_knn.due(done, steps_per_epoch)) {
      // Eval mode, no gradients, no random draws: training and resume stay bit-identical.
      auto rec = periodic_knn.run(state.method->backbone(), train_set, done, steps_per_epoch);
      rec["run_seconds"] = run_seconds();
      run.log_metrics(rec);
      t_start += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(rec["seconds"].get<double>()));
      budget.exclude(rec["seconds"].get<double>());
    }
    char values[128];
    std::snprintf(values, sizeof(values), "loss %.4f lr %.4f%s", settled.loss, opt.lr,
                  probe ? str_cat(" probe ", int(probe_acc), "%").c_str() : "");
    shown = values;
    progress.update(done, epoch, ips, shown);
    if (checkpoint_due(done)) {
      nan_guard.checkpointed();
      if (lead) save_state(state, snap(), run.path(), cfg.train.keep_checkpoints);
    }
    if (stop && done < total_steps) {
      result.interrupted = true;
      break;
    }
  }
  if (next) next->drop();
  progress.finish();
  if (result.interrupted && lead)
    std::fprintf(stderr, "[gps] stop requested: finished step %lld, writing the checkpoint and summary to %s\n",
                 static_cast<long long>(state.step), run.path().c_str());
  result.train_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  result.steps = state.step;
  result.images_per_second = double((state.step - timed_from) * B) / std::max(result.train_seconds, 1e-9);
  result.final_loss = settled.loss;
  result.data_wait_seconds = data_wait;
  const DeviceMemory mem = device_memory_peak(device);
  result.gpu_peak_allocated = mem.peak_allocated;
  result.gpu_peak_reserved = mem.peak_reserved;
  if (probe)
    result.online_probe_top1 = 100.0 * double(state.probe_correct) / double(std::max<int64_t>(1, state.probe_seen));
  result.run_dir = run.path();

  // The final (or interrupted) state: checkpoint.pt, and LATEST points at it.
  if (lead) {
    save_state(state, snap(), run.path(), cfg.train.keep_checkpoints, run.file("checkpoint.pt"));
    set_latest(run.path(), "checkpoint.pt");
  }

  const double eval_start = run_seconds();
  if (cfg.eval.enabled && !result.interrupted && lead) {
    const Dataset& test_set = *eval_data.test;  // checked in setup (prepare_eval_data)
    auto backbone = state.method->backbone();
    auto train_x = extract_features(backbone, train_set, 512, device);  // the probes run on the device too
    auto test_x = extract_features(backbone, test_set, 512, device);
    if (cfg.eval.features == "projector") {
      train_x = project_features(*state.method, train_x);
      test_x = project_features(*state.method, test_x);
    }
    result.eval = evaluate_features(train_x, train_set, test_x, test_set, cfg.eval, seed);
  }

  nlohmann::json summary = {{"method", cfg.method.name},
                            {"gps", cfg.gps},
                            {"device", device.str()},
                            {"precision", precision_name(precision)},
                            {"channels_last", cfg.train.channels_last},
                            {"steps", result.steps},
                            {"interrupted", result.interrupted},
                            {"train_seconds", result.train_seconds},
                            {"images_per_second", result.images_per_second},
                            {"data_wait_seconds", result.data_wait_seconds},
                            {"prefetch", prefetch ? loader_threads : 0},
                            {"final_loss", result.final_loss},
                            {"online_probe_top1", result.online_probe_top1},
                            {"table", {{"fingerprint", result.table.fingerprint}, {"dir", result.table.dir},
                                       {"reused", result.table.reused}, {"seconds", result.table.seconds}}}};
  if (device.is_cuda())
    summary["gpu_memory_mib"] = {{"peak_allocated", double(mem.peak_allocated) / (1 << 20)},
                                 {"peak_reserved", double(mem.peak_reserved) / (1 << 20)}};
  if (result.eval.done) summary["eval"] = result.eval.to_json();
  if (!budget.info().is_null()) summary["budget"] = budget.info();
  if (budget.enabled()) summary["eval_seconds"] = run_seconds() - eval_start;
  summary["run_seconds"] = run_seconds();  // the whole run, final evaluation included
  run.write_json("summary.json", summary);
  return result;
}

}  // namespace gps
