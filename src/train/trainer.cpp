#include "gps/train/trainer.h"

#include "gps/core/device.h"
#include "gps/core/precision.h"
#include "gps/eval/periodic_knn.h"
#include "gps/models/features.h"
#include "gps/train/run_clock.h"
#include "gps/train/run_setup.h"
#include "gps/train/train_loop.h"

namespace gps {

namespace {

// The final probes (eval.enabled) on the trained backbone's features, on the
// training device; the online probe on the held-out test images too.
EvalResult evaluate_run(RunSetup& r, TrainResult& result) {
  const Dataset& test_set = *r.eval_data.test;  // checked in setup (prepare_eval_data)
  auto backbone = r.state.method->backbone();
  auto train_x = extract_features(backbone, r.train_set, 512, r.place.device);
  auto test_x = extract_features(backbone, test_set, 512, r.place.device);
  if (r.state.has_probe())
    result.online_probe_test_top1 = 100.0 * linear_classifier_accuracy(r.state.classifier, test_x, test_set.labels);
  if (r.cfg.eval.features == "projector") {
    train_x = project_features(*r.state.method, train_x);
    test_x = project_features(*r.state.method, test_x);
  }
  return evaluate_features(train_x, r.train_set, test_x, test_set, r.cfg.eval, r.seed);
}

// What the loop did, as the summary reports it.
void summarise_loop(const RunSetup& r, const TrainLoop::End& end, const RunClock& clock, TrainResult& result) {
  result.method = r.cfg.method.name;
  result.gps = r.cfg.gps;
  result.device = r.place.device.str();
  result.precision = precision_name(r.place.precision);
  result.channels_last = r.state.channels_last;  // false when the CPU refused it (layout_note)
  result.prefetch = r.place.prefetch ? r.place.loader_threads : 0;
  result.table = r.table;
  result.run_dir = r.log.path();
  result.interrupted = end.interrupted;
  result.steps = r.state.loop.step;
  result.train_seconds = clock.span_seconds();
  result.images_per_second = clock.images_per_second(r.state.loop.step, r.schedule.batch);
  result.data_wait_seconds = clock.data_wait_seconds();
  result.final_loss = end.settled.loss;
  if (r.probe) result.online_probe_train_top1 = probe_accuracy(r.state.loop);
  result.cuda = r.place.device.is_cuda();
  const DeviceMemory mem = device_memory_peak(r.place.device);
  result.gpu_peak_allocated = mem.peak_allocated;
  result.gpu_peak_reserved = mem.peak_reserved;
}

}  // namespace

Config with_auto_devices_resolved(const Config& cfg, const torch::Device& device) {
  Config c = cfg;
  c.prior.device = follow_device(cfg.prior.device, device);
  c.neighbors.search.device = follow_device(cfg.neighbors.search.device, device);
  return c;
}

Config resolved_config(const Config& cfg) {
  cfg.validate();
  const torch::Device device = resolve_device(cfg.train.device);
  Config c = with_auto_devices_resolved(cfg, device);
  c.train.device = device.str();
  c.train.precision = precision_name(parse_precision(cfg.train.precision, device));
  c.augment = augment_for(cfg);
  c.validate();
  return c;
}

// Setup -> loop -> final checkpoint, evaluation and summary.
TrainResult train(const Config& cfg, const std::string& command_line, const ResumeOptions& resume) {
  RunClock clock;  // the run's one zero: data, prior and table included
  std::unique_ptr<RunSetup> r = set_up_run(cfg, command_line, resume);
  TrainLoop loop(*r, clock);
  const TrainLoop::End end = loop.run();

  TrainResult result;
  summarise_loop(*r, end, clock, result);
  if (end.interrupted)
    r->log.messagef("stop requested: finished step %lld, writing the checkpoint and summary to %s",
                    static_cast<long long>(r->state.loop.step), r->log.path().c_str());
  // The final (or interrupted) state: checkpoint.pt, and LATEST points at it.
  loop.checkpointer().save_final(r->state, loop.snapshot());

  const double eval_start = clock.run_seconds();
  if (cfg.eval.enabled && !end.interrupted && r->place.lead) result.eval = evaluate_run(*r, result);
  result.budget = loop.budget().info();
  if (loop.budget().enabled()) result.eval_seconds = clock.run_seconds() - eval_start;
  result.run_seconds = clock.run_seconds();  // the whole run, final evaluation included
  r->log.dir().write_json("summary.json", result.to_json());
  return result;
}

}  // namespace gps
