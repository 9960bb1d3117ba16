#include "gps/train/run_setup.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/threads.h"
#include "gps/data/registry.h"
#include "gps/distributed/process_group.h"
#include "gps/io/fs.h"
#include "gps/io/npz.h"
#include "gps/models/export.h"
#include "gps/prior/prior.h"
#include "gps/train/open_run.h"

#include <cmath>

namespace gps {

namespace {

// Devices, threads, processes; determinism and TF32 before open_run, which
// records them in env.json.
Placement place_run(const Config& cfg) {
  Placement p;
  p.group = dist::active_group();
  p.world = p.group ? p.group->world() : 1;
  p.rank = p.group ? p.group->rank() : 0;
  p.lead = p.rank == 0;
  GPS_CHECK(cfg.optim.batch_size % p.world == 0, "optim.batch_size = ", cfg.optim.batch_size,
            " is the global batch and must divide evenly among the ", p.world, " processes");
  p.threads = set_threads(int(cfg.train.threads));
  p.device = resolve_device(cfg.train.device);
  make_current(p.device);
  configure_determinism(p.device, cfg.train.deterministic);
  configure_tf32(cfg.train.tf32);
  p.sync_debug = sync_debug_from_env();
  p.precision = parse_precision(cfg.train.precision, p.device);
  // Prefetch: on CUDA the host is free while the device computes, so the
  // next batch is prepared on every core but one; on the CPU the cores are
  // the model's, and one worker thread (when asked for) takes little.
  p.prefetch = cfg.train.prefetch == "true" || (cfg.train.prefetch == "auto" && p.device.is_cuda());
  p.loader_threads = cfg.train.loader_threads > 0 ? int(cfg.train.loader_threads)
                     : p.device.is_cuda()          ? std::max(1, p.threads - 1)
                                                   : 1;
  return p;
}

// The positive-pair table: GPS neighbours in the prior's space (rank 0
// builds or reuses it, the others receive it), or the self table.
NeighborTable positive_pairs(RunSetup& r) {
  if (!r.cfg.gps) {
    r.table.fingerprint = "self";
    return self_table(r.train_set.size());
  }
  NeighborTable table;
  if (r.place.lead) {
    const std::string cache = cache_dir(r.cfg.train.out_dir);
    auto prior = make_prior(r.aux.prior, cache);
    table = obtain_table(*prior, r.train_set, r.aux.neighbors, cache, &r.table);
    r.log.messagef("neighbour table %s %s (%.1fs): %s", r.table.reused ? "reused" : "built", r.table.dir.c_str(),
                   r.table.seconds, r.table.fingerprint.c_str());
    if (!r.table.search.empty()) r.log.message("neighbour search: " + r.table.search);
  }
  if (r.place.group) broadcast_table(*r.place.group, table);
  return table;
}

// The model, its online probe and the optimiser, initialised from
// model.init_from when given, the same on every rank.
void build_state(RunSetup& r) {
  r.probe = r.cfg.train.online_probe && r.train_set.has_labels();
  r.state = make_train_state(r.cfg, r.train_set.channels(), r.probe ? r.train_set.num_classes : 0, r.place.device);
  if (!r.state.layout_note.empty()) r.log.message(r.state.layout_note);
  if (!r.cfg.model.init_from.empty()) {
    auto backbone = r.state.method->backbone();
    r.log.message(load_backbone_state(backbone, load_npz(r.cfg.model.init_from),
                                      "model.init_from: " + r.cfg.model.init_from));
    r.state.method->on_backbone_loaded();
  }
  if (r.place.group) {  // the same seed gives the same weights; broadcasting makes sure
    r.place.group->broadcast_module(*r.state.method);
    if (r.probe) r.place.group->broadcast_module(*r.state.classifier);
  }
}

// A folder of 80 images with the recipes' batch of 256: the batch becomes
// the training set (rounded down to a multiple of the processes), one step
// per epoch, with a note; config.yaml records the batch that ran.
std::string fit_batch_to_data(Config& cfg, int64_t images, int world) {
  const int64_t asked = cfg.optim.batch_size;
  if (asked <= images) return "";
  const int64_t fitted = images / world * world;
  GPS_CHECK(fitted >= 2, "optim.batch_size = ", asked, ": the training set has ", images,
            " images, too few for a batch of 2 per step", world > 1 ? str_cat(" over ", world, " processes") : "",
            "; raise data.subset or add images");
  cfg.optim.batch_size = fitted;
  cfg.validate();  // what depends on the batch (nnclr's queue, swav's) is checked again
  return str_cat("optim.batch_size = ", asked, " is larger than the training set (", images,
                 " images): this run uses optim.batch_size = ", fitted, " (one step per epoch)");
}

Schedule make_schedule(const Config& cfg, const PairSampler& sampler) {
  Schedule s;
  s.steps_per_epoch = sampler.batches_per_epoch();
  s.cap_steps = s.steps_per_epoch * cfg.optim.epochs;
  s.warmup_steps = int64_t(std::llround(cfg.optim.warmup_epochs * s.steps_per_epoch));
  s.batch = cfg.optim.batch_size;
  s.lr = cfg.optim.lr * (cfg.optim.scale_lr ? double(s.batch) / 256.0 : 1.0);
  return s;
}

}  // namespace

void RunSetup::restore_from(const std::string& path, bool rollback, bool force) {
  CheckpointState c = restore(state, path, rollback);
  // The images were checked by open_run; the table follows the prior and
  // neighbour options (changed keys need --force) and the prior's files.
  if (place.lead && !c.table_fingerprint.empty() && c.table_fingerprint != table.fingerprint) {
    GPS_CHECK(force, path, ": the run trained with the neighbour table ", c.table_fingerprint,
              ", but the prior and neighbour options now give ", table.fingerprint,
              "\n---> HINT: resume with the run's own prior, or pass --force to continue with the new table");
    log.message(str_cat("--force: continuing with another neighbour table than the checkpoint's (", table.fingerprint,
                        ")"));
  }
  if (c.table.ids.defined()) {
    c.table.validate(train_set.size(), path);
    sampler->set_table(std::move(c.table));
    table_refreshed = true;
  }
}

std::unique_ptr<RunSetup> set_up_run(const Config& requested, const std::string& command_line,
                                     const ResumeOptions& resume) {
  requested.validate();
  auto r = std::make_unique<RunSetup>();
  r->cfg = requested;
  const Config& cfg = r->cfg;  // the config the run uses (and config.yaml records)
  r->place = place_run(cfg);
  const Placement& p = r->place;
  r->seed = uint64_t(cfg.train.seed);
  torch::manual_seed(r->seed);

  r->train_set = load_dataset(cfg.data, "train");
  const std::string batch_note = fit_batch_to_data(r->cfg, r->train_set.size(), p.world);
  r->aux = with_auto_devices_resolved(cfg, p.device);
  // The test split, its labels and the probe's validation split, before any
  // step: rank 0 evaluates, so rank 0 checks.
  if (p.lead) r->eval_data = prepare_eval_data(cfg, r->train_set);

  const std::string data = data_fingerprint(r->train_set);
  r->data_fingerprint = data;
  OpenedRun opened = open_run(cfg, command_line, resume, data, p.group);
  r->log = RunLog(std::move(opened.run), p.lead);
  if (!batch_note.empty()) r->log.message(batch_note);
  if (!r->train_set.pixels->memory().defined()) r->log.message("images read from " + r->train_set.pixels->describe());
  r->log.message(str_cat("run directory ", r->log.path(), " (", p.device.str(), ", ", precision_name(p.precision),
                         cfg.train.channels_last ? ", channels-last" : "", ", ", p.threads, " threads",
                         p.world > 1 ? str_cat(" per process, ", p.world, " processes") : "", ")"));

  const EpochOrder order{cfg.data.order, r->train_set.pixels->chunk_rows(), cfg.data.order_window};
  r->sampler = std::make_unique<PairSampler>(positive_pairs(*r), cfg.optim.batch_size, r->seed, order);
  r->augment = make_augmentation(augment_for(cfg), r->train_set.mean, r->train_set.std);
  build_state(*r);
  GPS_CHECK(cfg.augment.local_crops == 0 || r->state.method->reads_local_views(), "augment.local_crops = ",
            cfg.augment.local_crops, ": method ", cfg.method.name,
            " reads two views; local views are for multi-crop methods (dino), set augment.local_crops=0");
  r->schedule = make_schedule(cfg, *r->sampler);
  if (!opened.resume_from.empty()) {
    r->restore_from(opened.resume_from, false, resume.force);
    r->resumed_from = opened.resume_from;
    r->log.metrics({{"event", "resume"}, {"step", r->state.loop.step}, {"checkpoint", opened.resume_from}});
  }
  // A resume rewrites config.yaml only now that its state has loaded: a
  // failed one (--force onto another method) leaves the run as it was.
  if (opened.resumed) r->log.dir().write_text("config.yaml", cfg.to_yaml());
  return r;
}

}  // namespace gps
