// gps: guided positive sampling for self-supervised learning.
#include "commands.h"

#include "gps/core/check.h"
#include "gps/core/device.h"
#include "gps/core/env_info.h"
#include "gps/distributed/process_group.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

int main(int argc, char** argv) {
  // fp32 means fp32 in every command (torch allows TF32 in cuDNN by
  // default); a training run sets train.tf32 for itself.
  gps::configure_tf32(false);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

  CLI::App app{"gps: self-supervised representation learning with Guided Positive Sampling (GPS-SSL)"};
  app.require_subcommand(1);
  std::map<CLI::App*, gps::cli::Runner> runners;
  auto add = [&](const char* name, const char* help, auto&& adder) {
    CLI::App* sub = app.add_subcommand(name, help);
    runners[sub] = adder(*sub);
  };
  add("train", "train one SSL run (plain or GPS) and evaluate it",
      [&](CLI::App& s) { return gps::cli::add_train(s, command_line); });
  add("compare", "train a method plain and with GPS, print a side-by-side table (the main job)",
      [&](CLI::App& s) { return gps::cli::add_compare(s, command_line); });
  add("experiment", "run a grid of runs (methods x plain/GPS x presets x seeds ...) and write the paper's tables",
      [&](CLI::App& s) { return gps::cli::add_experiment(s, command_line); });
  add("neighbors", "build (or reuse) the neighbour table of a prior and report its label purity",
      [&](CLI::App& s) { return gps::cli::add_neighbors(s); });
  add("prior-report", "how good is a prior: neighbour label purity at several k, candidate sets, its own "
      "linear-probe / kNN accuracy, a PNG of images next to their neighbours",
      [&](CLI::App& s) { return gps::cli::add_prior_report(s); });
  add("embed", "write the prior's embeddings of a dataset split as .npy",
      [&](CLI::App& s) { return gps::cli::add_embed(s); });
  add("eval", "evaluate a run's backbone or an embeddings file: linear probe, kNN, Recall@k",
      [&](CLI::App& s) { return gps::cli::add_eval(s); });
  add("export", "write a run's backbone as TorchScript + torchvision-named .npz + JSON sidecar (and embeddings)",
      [&](CLI::App& s) { return gps::cli::add_export(s); });
  add("augment-grid", "write a PNG of dataset images next to augmented views (see what a preset does)",
      [&](CLI::App& s) { return gps::cli::add_augment_grid(s); });
  add("batch", "write the input of one training step (pairs and both augmented views) as .npz",
      [&](CLI::App& s) { return gps::cli::add_batch(s); });
  add("launch", "run a command in N processes on this machine (data-parallel `gps train`: NCCL on GPUs, Gloo on the CPU)",
      [&](CLI::App& s) { return gps::cli::add_launch(s); });
  add("data", "image stores for data larger than memory: `data pack` writes them, `data verify` checks them",
      [&](CLI::App& s) { return gps::cli::add_data(s); });
  add("info", "the environment: gps, LibTorch, FAISS, OpenCV versions, CPU and its flags, threads, BLAS, GPUs",
      [&](CLI::App& s) { return gps::cli::add_info(s); });
  app.set_version_flag("--version", [] { return gps::version_text(); }, "print the versions of gps and its libraries");

  // No command: the command list. A mistyped one: named, with the closest match.
  if (argc < 2) {
    std::fprintf(stderr, "%s\nerror: a command is required\n", app.help().c_str());
    return 2;
  }
  const std::string first = argv[1];
  if (!first.empty() && first[0] != '-') {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), first) == names.end()) {
      const std::string near = gps::cli::closest_command(first, names);
      std::fprintf(stderr, "error: unknown command '%s'%s\n(run `gps --help` for the list of commands)\n",
                   first.c_str(), near.empty() ? "" : ("; did you mean '" + near + "'?").c_str());
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto* sub : app.get_subcommands()) {
      // Only training knows how to share work among processes; any other
      // command would run W times over and race on its output files.
      const std::string name = sub->get_name();
      GPS_CHECK(name == "train" || name == "launch" || !gps::dist::DistEnv::from_env().enabled(),
                "gps ", name, " runs in one process, but WORLD_SIZE=", std::getenv("WORLD_SIZE"),
                " is set: only `gps train` runs in several processes (unset WORLD_SIZE to run this command)");
      return runners.at(sub)();
    }
  } catch (const gps::Error& e) {
    std::fprintf(stderr, "\nerror: %s\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "\nerror (torch): %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nerror: %s\n", e.what());
    return 1;
  }
  return 0;
}
