#include "commands.h"

#include "gps/config/config.h"
#include "gps/train/compare.h"
#include "gps/train/stop_signal.h"
#include "gps/train/trainer.h"

#include <cstdio>

namespace gps::cli {

Runner add_train(CLI::App& app, std::string& command_line) {
  auto args = std::make_shared<ConfigArgs>();
  add_config_args(&app, *args);
  return [args, &command_line]() {
    const Config cfg = load_config(args->config_path, args->overrides);
    install_stop_handlers();
    const TrainResult r = train(cfg, command_line);
    std::printf("run: %s\n", r.run_dir.c_str());
    if (r.interrupted) {
      std::printf("interrupted after %lld steps; checkpoint.pt and summary.json are in the run directory\n",
                  static_cast<long long>(r.steps));
      return 130;
    }
    std::printf("steps %lld, %.1f s, %.0f images/s, final loss %.4f\n", static_cast<long long>(r.steps),
                r.train_seconds, r.images_per_second, r.final_loss);
    if (r.online_probe_top1 >= 0) std::printf("online probe (last epoch, train): %.2f%%\n", r.online_probe_top1);
    if (r.eval.done)
      std::printf("test: linear probe %.2f%%, kNN %.2f%% (%lld train / %lld test images)\n", r.eval.linear_top1,
                  r.eval.knn_top1, static_cast<long long>(r.eval.train_images),
                  static_cast<long long>(r.eval.test_images));
    return 0;
  };
}

Runner add_compare(CLI::App& app, std::string& command_line) {
  auto args = std::make_shared<ConfigArgs>();
  add_config_args(&app, *args);
  return [args, &command_line]() {
    const Config cfg = load_config(args->config_path, args->overrides);
    const CompareResult r = run_compare(cfg, command_line);
    std::printf("\n%s\nWritten to %s (runs, *-compare.md, *-compare.json)\n", r.table_markdown.c_str(),
                r.out_dir.c_str());
    return 0;
  };
}

}  // namespace gps::cli
