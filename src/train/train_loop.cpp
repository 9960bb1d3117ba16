#include "gps/train/train_loop.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/distributed/process_group.h"
#include "gps/models/features.h"
#include "gps/neighbors/candidate_rules.h"
#include "gps/optim/schedule.h"
#include "gps/prior/prior.h"
#include "gps/train/stop_signal.h"
#include "gps/train/train_step.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace gps {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Table refresh (reference `reload_freq`): rebuild the GPS table from the
// model being trained (Proposition 1 iii: g = f approaches NNCLR).
void refresh_table(const Config& cfg, MethodImpl& method, const Dataset& train_set, PairSampler& sampler, RunLog& log,
                   int64_t epoch) {
  const auto t0 = Clock::now();
  auto feats = extract_features(method.backbone(), train_set);
  if (cfg.neighbors.refresh_features == "projector") feats = project_features(method, feats);
  NeighborTable t = build_table(feats, cfg.neighbors.rules, search_options(cfg.neighbors));
  nlohmann::json rec = {
      {"event", "table_refresh"}, {"epoch", epoch}, {"features", cfg.neighbors.refresh_features}, {"seconds", seconds_since(t0)}};
  if (train_set.has_labels()) rec["label_purity"] = candidate_label_purity(t, train_set.labels);
  sampler.set_table(std::move(t));
  log.metrics(rec);
}

// "loss 1.2345 lr 0.1000 probe 62%" (probe_acc < 0: no probe).
std::string progress_values(double loss, double lr, double probe_acc) {
  char values[128];
  std::snprintf(values, sizeof(values), "loss %.4f lr %.4f%s", loss, lr,
                probe_acc >= 0 ? str_cat(" probe ", int(probe_acc), "%").c_str() : "");
  return values;
}

}  // namespace

double probe_accuracy(const LoopCounters& c) {
  return 100.0 * double(c.probe_correct) / double(std::max<int64_t>(1, c.probe_seen));
}

TrainLoop::TrainLoop(RunSetup& run, RunClock& clock)
    : r_(run),
      state_(run.state),
      sched_(run.schedule),
      clock_(clock),
      total_steps_(run.state.loop.budget_steps > 0 ? run.state.loop.budget_steps : run.schedule.cap_steps),
      budget_({run.cfg.optim.budget_minutes, sched_.steps_per_epoch, sched_.cap_steps, sched_.warmup_steps,
               sched_.batch},
              clock.start(), state_.loop.budget_spent_s, state_.loop.budget_steps, state_.loop.step),
      checkpointer_(run.cfg.train, run.log.path(), sched_.steps_per_epoch, run.place.lead),
      batches_(*run.sampler, *run.augment, run.train_set, run.seed, run.probe, run.place.rank, run.place.world,
               run.place.device, run.state.channels_last, run.state.dtype),
      monitor_(run.place.device),
      nan_guard_(run.cfg.train),
      knn_(run.cfg.data, run.cfg.eval, run.eval_data.test ? &*run.eval_data.test : nullptr) {
  // Rollback needs a checkpoint to go back to: the initial state.
  if (r_.place.lead && r_.cfg.train.nan_policy == "rollback" && !checkpointer_.has_checkpoint())
    checkpointer_.save(state_, snapshot());
}

CheckpointState TrainLoop::snapshot() {
  if (budget_.enabled()) state_.loop.budget_spent_s = budget_.now();
  CheckpointState c =
      gps::snapshot(state_, r_.cfg, sched_.steps_per_epoch, r_.table_refreshed ? &r_.sampler->table() : nullptr);
  c.data_fingerprint = r_.data_fingerprint;
  c.table_fingerprint = r_.table.fingerprint;
  return c;
}

TrainLoop::End TrainLoop::run() {
  const Placement& p = r_.place;
  const int64_t spe = sched_.steps_per_epoch, B = sched_.batch, log_every = r_.cfg.train.log_every;
  r_.log.start_progress(str_cat(r_.cfg.method.name, r_.cfg.gps ? "+gps" : ""), total_steps_, state_.loop.step,
                        r_.cfg.train.progress);
  clock_.start_span(state_.loop.step);
  if (p.prefetch) prefetcher_.emplace(p.loader_threads);
  reset_device_memory_peak(p.device);  // gpu_memory_mib: the training steps, not the prior and table
  state_.method->train();
  End end;
  while (state_.loop.step < total_steps_) {
    const int64_t step = state_.loop.step, epoch = step / spe, b = step % spe;
    if (p.group) p.group->set_step(step);  // named if a rank is lost
    if (epoch != cur_epoch_) begin_epoch(epoch, b);
    StepOptions opt;
    opt.precision = p.precision;
    opt.lr = state_.loop.lr_scale * warmup_cosine(step, total_steps_, sched_.warmup_steps, sched_.lr,
                                                  r_.cfg.optim.warmup_start_lr, r_.cfg.optim.min_lr);
    if (r_.cfg.optim.weight_decay_end >= 0)  // DINO's cosine from weight_decay to weight_decay_end, no warm-up
      opt.weight_decay = warmup_cosine(step, total_steps_, 0, r_.cfg.optim.weight_decay, r_.cfg.optim.weight_decay,
                                       r_.cfg.optim.weight_decay_end);
    opt.progress_after = double(step + 1) / double(total_steps_);
    opt.group = p.group;
    {  // GPS_SYNC_DEBUG: from here to the end of the step, a host wait for the device fails (or warns).
      SyncDebugScope strict(p.device, p.sync_debug);
      StepBatch batch = next_batch(epoch, b);
      monitor_.record(train_step(state_, batch, opt), step);
      if (r_.probe) state_.loop.probe_seen += B;
    }

    const int64_t done = state_.loop.step;
    const bool budget_due = budget_.due(done, state_.loop.budget_steps, total_steps_);
    const bool log_due = done % log_every == 0 || done == total_steps_;
    const bool settle_due = log_due || checkpointer_.due(done, total_steps_) || done % spe == 0 || budget_due;
    const bool stop = agree_stop(settle_due);
    const double ips = clock_.images_per_second(done, B);
    if (!(settle_due || stop)) {
      r_.log.progress(done, epoch, ips, shown_);
      continue;
    }
    // Settle: the loop's one wait for the device. A non-finite loss is caught
    // here, before any checkpoint, table refresh or evaluation sees its weights.
    settled_ = monitor_.settle(state_, p.group);
    if (!settled_.finite) {
      roll_back(settled_, done);  // throws when train.nan_policy stops the run
      continue;
    }
    if (budget_due) decide_budget(done);
    if (log_due) log_settled(done, epoch, opt.lr, ips);
    if (p.lead && knn_.due(done, spe)) evaluate_knn(done);
    shown_ = progress_values(settled_.loss, opt.lr, r_.probe ? probe_accuracy(state_.loop) : -1);
    r_.log.progress(done, epoch, ips, shown_);
    if (checkpointer_.due(done, total_steps_)) {
      nan_guard_.checkpointed();
      checkpointer_.save(state_, snapshot());
    }
    if (stop && done < total_steps_) {
      end.interrupted = true;
      break;
    }
  }
  if (prefetcher_) prefetcher_->drop();
  r_.log.end_progress();
  end.settled = settled_;
  return end;
}

// At an epoch's first step (or the loop's first, mid-epoch): the table
// refresh every neighbors.refresh_every epochs, the probe's counts, the order.
void TrainLoop::begin_epoch(int64_t epoch, int64_t b) {
  const int64_t R = r_.cfg.neighbors.refresh_every;
  if (b == 0 && r_.cfg.gps && R > 0 && epoch > 0 && epoch % R == 0) {
    if (r_.place.lead) refresh_table(r_.aux, *state_.method, r_.train_set, *r_.sampler, r_.log, epoch);
    if (r_.place.group) {  // rank 0's table everywhere, as at the start
      NeighborTable t = r_.sampler->table();
      broadcast_table(*r_.place.group, t);
      r_.sampler->set_table(std::move(t));
    }
    r_.table_refreshed = true;
  }
  if (b == 0) state_.loop.probe_correct = state_.loop.probe_seen = 0;
  order_ = r_.sampler->epoch_order(epoch);
  cur_epoch_ = epoch;
  state_.method->on_epoch_start(epoch);
}

// Batch b, made now or taken from the prefetcher, on the device; batch b+1
// handed to the prefetcher. The wait counts as the loop's data wait.
StepBatch TrainLoop::next_batch(int64_t epoch, int64_t b) {
  const auto t_wait = Clock::now();
  StepBatch host = prefetcher_ && prefetcher_->pending() ? prefetcher_->take() : batches_.host(epoch, order_, b);
  clock_.waited(seconds_since(t_wait));
  StepBatch batch = batches_.upload(std::move(host));
  if (prefetcher_ && b + 1 < sched_.steps_per_epoch)
    prefetcher_->submit([&batches = batches_, epoch, order = order_, b] { return batches.host(epoch, order, b + 1); });
  return batch;
}

// A stop request seen by any rank is agreed on: every step over Gloo; over
// NCCL only where the loop settles anyway, since reading the agreed flag
// back would make the host wait for the device.
bool TrainLoop::agree_stop(bool settle_due) const {
  const bool stop = stop_requested();
  dist::Group* group = r_.place.group;
  if (!group) return stop;
  if (group->nccl() && !settle_due) return false;
  auto flag = torch::tensor({stop ? 1.0 : 0.0}, torch::kFloat64);
  group->all_reduce_sum(flag);
  return flag.item<double>() > 0;
}

// train.nan_policy (step_monitor.h): back to a checkpoint with the lr
// lowered, the loop starting again from its step; or the run stops.
void TrainLoop::roll_back(const Settled& settled, int64_t done) {
  const TrainConfig& t = r_.cfg.train;
  const std::string what = NanGuard::what(settled, done, sched_.steps_per_epoch);
  const std::string back = nan_guard_.rollback_to(r_.log.path(), state_.loop.rollbacks);
  if (back.empty()) {
    r_.log.metrics({{"event", "nan_stop"}, {"detail", what}});
    nan_guard_.stop(what);
  }
  if (prefetcher_) prefetcher_->drop();
  r_.restore_from(back, true);
  monitor_.reset();
  ++state_.loop.rollbacks;
  nan_guard_.rolled_back();
  state_.loop.lr_scale *= t.nan_lr_factor;
  r_.log.messagef("%s; rolled back to %s (step %lld) with lr x %g (rollback %lld of %lld)", what.c_str(), back.c_str(),
                  static_cast<long long>(state_.loop.step), state_.loop.lr_scale,
                  static_cast<long long>(state_.loop.rollbacks), static_cast<long long>(t.nan_max_rollbacks));
  r_.log.metrics(
      {{"event", "nan_rollback"}, {"detail", what}, {"to_step", state_.loop.step}, {"lr_scale", state_.loop.lr_scale}});
  cur_epoch_ = -1;
  r_.log.rebase(state_.loop.step);
  clock_.start_span(state_.loop.step);
}

// optim.budget_minutes: the run's length from its measured speed. The
// first decision, and each that changes the length, is reported.
void TrainLoop::decide_budget(int64_t done) {
  const bool evaluates = r_.cfg.eval.enabled && r_.place.lead;
  const double eval_images = evaluates ? double(r_.train_set.size() + r_.eval_data.test->size()) : 0.0;
  const Budget::Decision d =
      budget_.settle(done, state_.loop.budget_steps, total_steps_, eval_images, r_.place.group, r_.place.lead);
  if (!d.made) return;
  state_.loop.budget_steps = total_steps_ = d.total_steps;
  r_.log.set_total(total_steps_);
  r_.log.metrics({{"event", "budget"}, {"budget", budget_.info()}});
  const auto& info = budget_.info();
  const double minutes = r_.cfg.optim.budget_minutes, spe = double(sched_.steps_per_epoch);
  if (budget_.decisions() == 1 || d.changed)
    r_.log.messagef("optim.budget_minutes=%g: %lld steps (%.2f epochs%s) at %.3f s/step; %.1f min spent, "
                    "%.1f min reserved for the evaluation",
                    minutes, static_cast<long long>(d.total_steps), double(d.total_steps) / spe,
                    d.total_steps == sched_.cap_steps ? ", optim.epochs" : "", info["step_seconds"].get<double>(),
                    info["spent_seconds"].get<double>() / 60.0, info["eval_reserve_seconds"].get<double>() / 60.0);
  if (budget_.decisions() == 1 && d.total_steps < sched_.warmup_steps + sched_.steps_per_epoch)
    r_.log.warning(str_cat("the budget leaves ", d.total_steps, " steps, little after the ", sched_.warmup_steps,
                           " warm-up steps (optim.warmup_epochs); raise optim.budget_minutes or lower the warm-up"));
}

// One metrics.jsonl record of the settled step.
void TrainLoop::log_settled(int64_t done, int64_t epoch, double lr, double images_per_s) {
  nlohmann::json rec = {{"step", done},
                        {"epoch", epoch},
                        {"lr", lr},
                        {"loss", settled_.loss},
                        {"images_per_s", images_per_s},
                        {"elapsed_s", clock_.span_seconds()},
                        {"data_wait_s", clock_.data_wait_seconds()}};
  for (const auto& [k, v] : settled_.logs) rec[k] = v;
  if (r_.probe) {
    rec["probe_loss"] = settled_.probe_loss;
    rec["probe_acc"] = probe_accuracy(state_.loop);
  }
  r_.log.metrics(rec);
}

// The kNN curve (eval.knn_every): eval mode, no gradients, no random draws,
// so training and resume stay bit-identical; its time is left out of the
// loop's speed and of the budget.
void TrainLoop::evaluate_knn(int64_t done) {
  auto rec = knn_.run(state_.method->backbone(), r_.train_set, done, sched_.steps_per_epoch, state_.classifier);
  rec["run_seconds"] = clock_.run_seconds();
  r_.log.metrics(rec);
  clock_.exclude(rec["seconds"].get<double>());
  budget_.exclude(rec["seconds"].get<double>());
}

}  // namespace gps
