#include "commands.h"

#include "gps/config/config.h"
#include "gps/core/check.h"
#include "gps/distributed/process_group.h"
#include "gps/train/compare.h"
#include "gps/methods/run_reader.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"

#include <cstdio>
#include <filesystem>

namespace gps::cli {

Runner add_train(CLI::App& app, std::string& command_line) {
  auto args = std::make_shared<ConfigArgs>();
  auto resume = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  add_config_args(&app, *args);
  add_check_flags(&app, *args);
  app.add_option("--resume", *resume,
                 "continue a run: its directory, or 'auto' (the run named by train.name, else the newest unfinished "
                 "run under train.out_dir with the same training config; a new run when there is none)");
  app.add_flag("--force", *force, "with --resume: continue even when training keys of the config changed");
  return [args, resume, force, &command_line]() {
    ResumeOptions ro;
    ro.force = *force;
    std::string config_path = args->config_path;
    if (!resume->empty() && *resume != "auto") {
      ro.run_dir = *resume;
      // Without -c, the run's own config (overrides still apply).
      const RunReader run(*resume, "--resume");
      if (config_path.empty()) config_path = run.config_path();
    }
    Config cfg = load_config(config_path, args->overrides);
    if (check_only(*args, {cfg})) return 0;
    // Several processes (gps launch, or torchrun-style variables: process_group.h):
    // join the group before anything else, and share this machine's cores.
    const dist::DistEnv env = dist::DistEnv::from_env();
    if (env.enabled()) {
      cfg.train.threads = env.threads_per_process(int(cfg.train.threads));
      const torch::Device device = env.device_for(cfg.train.device);  // local rank r: cuda:r
      cfg.train.device = device.str();
      dist::set_active_group(dist::Group::connect(env, device));
    }
    if (*resume == "auto") {
      ro.run_dir = find_resumable_run(cfg);
      std::fprintf(stderr, "[gps] --resume auto: %s\n",
                   ro.run_dir.empty() ? "no unfinished run with this config; starting a new one" : ro.run_dir.c_str());
    }
    if (!ro.run_dir.empty() && is_finished_run(ro.run_dir)) {
      std::printf("run: %s is already finished (summary.json); nothing to resume\n", ro.run_dir.c_str());
      Config saved;  // overrides given for a finished run change nothing: say so
      saved.merge_yaml_file(RunReader(ro.run_dir, "--resume").config_path());
      for (const auto& k : changed_training_keys(saved, cfg))
        std::printf("  ignored: %s (the run has %s, now %s)\n", k.c_str(), saved.get(k).c_str(), cfg.get(k).c_str());
      return 0;
    }
    install_stop_handlers();
    const TrainResult r = train(cfg, command_line, ro);
    if (env.rank != 0) return r.interrupted ? 130 : 0;  // rank 0 reports
    std::printf("run: %s\n", r.run_dir.c_str());
    if (r.interrupted) {
      std::printf("interrupted after %lld steps; checkpoint.pt and summary.json are in the run directory\n",
                  static_cast<long long>(r.steps));
      return 130;
    }
    std::printf("steps %lld, %.1f s, %.0f images/s, final loss %.4f\n", static_cast<long long>(r.steps),
                r.train_seconds, r.images_per_second, r.final_loss);
    if (r.online_probe_train_top1 >= 0 && r.online_probe_test_top1 >= 0)
      std::printf("online probe: %.2f%% on the last epoch's training views, %.2f%% on the test images\n",
                  r.online_probe_train_top1, r.online_probe_test_top1);
    else if (r.online_probe_train_top1 >= 0)  // eval.enabled=false: no test images were read
      std::printf("online probe: %.2f%% on the last epoch's training views\n", r.online_probe_train_top1);
    if (r.eval.done)
      std::printf("test: linear probe %.2f%%, kNN %.2f%% (%lld train / %lld test images)\n", r.eval.linear_top1,
                  r.eval.knn_top1, static_cast<long long>(r.eval.train_images),
                  static_cast<long long>(r.eval.test_images));
    return 0;
  };
}

Runner add_compare(CLI::App& app, std::string& command_line) {
  auto args = std::make_shared<ConfigArgs>();
  auto seeds = std::make_shared<int>(1);
  add_config_args(&app, *args);
  add_check_flags(&app, *args);
  app.add_option("--seeds", *seeds,
                 "compare over N seeds (train.seed, +1, ...) and report mean +- std of each accuracy and of the gain")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  return [args, seeds, &command_line]() {
    const Config cfg = load_config(args->config_path, args->overrides);
    Config plain = cfg, gps = cfg;  // compare runs both
    plain.gps = false;
    gps.gps = true;
    if (check_only(*args, {cfg, plain, gps})) return 0;
    if (*seeds > 1) {
      const std::string md = run_compare_seeds(cfg, *seeds, command_line);
      std::printf("\n%s\nWritten to %s (runs, *-seeds.md, *-seeds.json)\n", md.c_str(), cfg.train.out_dir.c_str());
      return 0;
    }
    const CompareResult r = run_compare(cfg, command_line);
    std::printf("\n%s\nWritten to %s (runs, *-compare.md, *-compare.json)\n", r.table_markdown.c_str(),
                r.out_dir.c_str());
    return 0;
  };
}

}  // namespace gps::cli
