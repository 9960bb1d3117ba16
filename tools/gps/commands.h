// Subcommands of the `gps` CLI. Each registers its options on a CLI11 app
// and returns the function that runs it; main only parses and dispatches.
#pragma once

#include "gps/config/config.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace gps::cli {

using Runner = std::function<int()>;

// Options every config-driven command shares: -c/--config FILE and key=value overrides.
struct ConfigArgs {
  std::string config_path;
  std::vector<std::string> overrides;
  bool check = false, print_config = false;  // --check, --print-config (train, compare)
};
void add_config_args(CLI::App* app, ConfigArgs& args);
// --check and --print-config: resolve and validate the config, print it, run nothing.
void add_check_flags(CLI::App* app, ConfigArgs& args);
// When --check or --print-config was given: `configs` resolved (trainer.h
// resolved_config), the first printed as YAML under --print-config, "config
// OK" under --check; true, so that the command returns 0 without running.
// Writes nothing; a bad key throws gps::Error as training would.
bool check_only(const ConfigArgs& args, const std::vector<Config>& configs);
// Text listing every config key, type, default and help (for --help footers).
std::string config_help();

Runner add_train(CLI::App& app, std::string& command_line);
Runner add_compare(CLI::App& app, std::string& command_line);
Runner add_experiment(CLI::App& app, std::string& command_line);
Runner add_neighbors(CLI::App& app);
Runner add_embed(CLI::App& app);
Runner add_eval(CLI::App& app);
Runner add_augment_grid(CLI::App& app);
Runner add_batch(CLI::App& app);
Runner add_prior_report(CLI::App& app);
Runner add_export(CLI::App& app);
Runner add_launch(CLI::App& app);
Runner add_info(CLI::App& app);
Runner add_data(CLI::App& app);

// The command of `commands` closest to a mistyped `word` ("" when none is close).
std::string closest_command(const std::string& word, const std::vector<std::string>& commands);

}  // namespace gps::cli
